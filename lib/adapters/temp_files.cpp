// Temp-file tokens and the rule for which leftover temp files may be swept.
#include "adapters/temp_files.h"

#include <signal.h>
#include <unistd.h>

#include <sodium.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>

#include "domain/failure.h"
#include "domain/file_name.h"

namespace exportd {

namespace {

// No attempt lives this long: the lease and every timeout are far shorter.
constexpr auto kForeignTempAge = std::chrono::hours(1);

std::string random_hex(size_t digits) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < digits; ++i) {
    out.push_back(kHex[random() % 16]);
  }
  return out;
}

struct TempOwner {
  std::string host;
  pid_t pid = 0;
};

std::optional<TempOwner> temp_owner(std::string_view name) {
  // ".{final}.{host}-{pid}-{rand}.tmp"
  const auto end = name.size() - 4;
  const auto start = name.rfind('.', end - 1);
  if (start == std::string_view::npos) {
    return std::nullopt;
  }
  std::istringstream token(std::string(name.substr(start + 1, end - start - 1)));
  std::string host, pid;
  if (!std::getline(token, host, '-') || !std::getline(token, pid, '-')) {
    return std::nullopt;
  }
  try {
    return TempOwner{host, static_cast<pid_t>(std::stol(pid))};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::mutex in_progress_mutex;
std::multiset<std::string>& in_progress() {
  static std::multiset<std::string> names;
  return names;
}

bool is_in_progress(std::string_view name) {
  std::lock_guard lock(in_progress_mutex);
  return in_progress().contains(std::string(name));
}

}  // namespace

TempFileInProgress::TempFileInProgress(std::string name) : name_(std::move(name)) {
  std::lock_guard lock(in_progress_mutex);
  in_progress().insert(name_);
}

TempFileInProgress::~TempFileInProgress() {
  std::lock_guard lock(in_progress_mutex);
  in_progress().erase(in_progress().find(name_));
}

std::string host_tag_for(std::string_view machine_id) {
  // The key keeps the tag apart from any other hash of the machine id.
  static constexpr std::string_view kKey = "orderflow-exportd temp file host";
  std::array<unsigned char, crypto_generichash_BYTES> digest{};
  if (sodium_init() < 0 ||
      crypto_generichash(digest.data(), digest.size(),
                         reinterpret_cast<const unsigned char*>(machine_id.data()),
                         machine_id.size(), reinterpret_cast<const unsigned char*>(kKey.data()),
                         kKey.size()) != 0) {
    throw Failure(FailureKind::transient, "cannot hash the machine id");
  }
  std::uint64_t value = 0;
  for (size_t i = 0; i < sizeof value; ++i) {
    value = (value << 8) | digest[i];
  }
  return std::to_string(value % 100000000);
}

const std::string& host_tag() {
  static const std::string tag = [] {
    std::string id;
    std::ifstream("/etc/machine-id") >> id;
    if (id.empty()) {
      char host[256] = {};
      ::gethostname(host, sizeof host - 1);
      id = host;
    }
    return host_tag_for(id);
  }();
  return tag;
}

std::string new_temp_token() {
  return host_tag() + "-" + std::to_string(::getpid()) + "-" + random_hex(8);
}

bool is_abandoned_temp_file(std::string_view name, std::chrono::system_clock::time_point modified,
                            std::chrono::system_clock::time_point now) {
  if (!is_temp_file_name(name)) {
    return false;
  }
  if (const auto owner = temp_owner(name); owner && owner->host == host_tag()) {
    if (owner->pid == ::getpid()) {
      return !is_in_progress(name);
    }
    if (::kill(owner->pid, 0) != 0 && errno == ESRCH) {
      return true;
    }
  }
  return now - modified > kForeignTempAge;
}

std::vector<std::string> abandoned_temp_files(const std::vector<DirectoryEntry>& files,
                                              std::chrono::system_clock::time_point now) {
  std::vector<std::string> abandoned;
  for (const auto& file : files) {
    if (is_abandoned_temp_file(file.name, file.modified, now)) {
      abandoned.push_back(file.name);
    }
  }
  return abandoned;
}

bool SweptDirectories::first_visit(const std::string& directory) {
  std::lock_guard lock(mutex_);
  return seen_.insert(directory).second;
}

}  // namespace exportd
