// Why each step: the temp name starts with '.' and ends in '.tmp' so the ERP
// ignores it; fsync before rename so a power cut never leaves a renamed but
// empty file; RENAME_NOREPLACE so a file an earlier attempt delivered is
// never overwritten; the directory fsync (batched by the caller) makes the
// rename itself durable before the database says SENT.
#include "adapters/filesystem/filesystem_dropzone.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <random>
#include <sstream>

#include "domain/failure.h"
#include "domain/file_name.h"

namespace exportd {

namespace {

// Temp files of a crashed attempt are swept when their writer is gone; ones
// whose writer we cannot check (another host) only once they are this old.
constexpr auto kForeignTempAge = std::chrono::hours(1);

FailureKind classify_errno(int err) {
  switch (err) {
    case EACCES:
    case EPERM:
    case EROFS:
    case ELOOP:
    case ENOTDIR:
    case ENAMETOOLONG:
    case EISDIR:
      return FailureKind::permanent;
    default:  // ENOSPC, EDQUOT, EIO, ENOENT on a vanished mount, ...
      return FailureKind::transient;
  }
}

[[noreturn]] void fail(int err, const std::string& operation) {
  throw Failure(classify_errno(err), operation + ": " + std::strerror(err));
}

std::string quoted(const std::string& s) {
  return "'" + s + "'";
}

std::string random_hex(size_t digits) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < digits; ++i) {
    out.push_back(kHex[random() % 16]);
  }
  return out;
}

std::string host_tag() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return std::to_string(std::hash<std::string>{}(host) % 100000000);
}

// Token inside our temp names: host tag, pid, random. Lets the sweep tell a
// crashed writer's temp file from one being written right now.
std::string temp_token() {
  static const std::string tag = host_tag();
  return tag + "-" + std::to_string(::getpid()) + "-" + random_hex(8);
}

struct TempOwner {
  std::string host;
  pid_t pid = 0;
};

std::optional<TempOwner> temp_owner(const std::string& name) {
  // ".{final}.{host}-{pid}-{rand}.tmp"
  const auto end = name.size() - 4;
  const auto start = name.rfind('.', end - 1);
  if (start == std::string::npos) {
    return std::nullopt;
  }
  std::istringstream token(name.substr(start + 1, end - start - 1));
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

class Fd {
 public:
  Fd(PosixIo& io, int fd) : io_(io), fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) {
      io_.close(fd_);
    }
  }
  int get() const { return fd_; }
  // Explicit close reports what the destructor can only swallow.
  void close(const std::string& what) {
    const int fd = fd_;
    fd_ = -1;
    if (io_.close(fd) != 0 && errno != EINTR) {
      fail(errno, "cannot close " + what);
    }
  }

 private:
  PosixIo& io_;
  int fd_;
};

}  // namespace

std::string normalize_absolute_path(const std::string& path) {
  if (path.empty() || path.front() != '/') {
    throw Failure(FailureKind::permanent, "path " + quoted(path) + " is not absolute");
  }
  std::string out;
  std::istringstream parts(path);
  std::string part;
  while (std::getline(parts, part, '/')) {
    if (part.empty() || part == ".") {
      continue;
    }
    if (part == "..") {
      throw Failure(FailureKind::permanent, "path " + quoted(path) + " contains '..'");
    }
    out += "/" + part;
  }
  return out.empty() ? "/" : out;
}

bool path_is_within(const std::string& path, const std::string& root) {
  if (root == "/") {
    return true;
  }
  return path == root || (path.starts_with(root) && path[root.size()] == '/');
}

FilesystemDropzone::FilesystemDropzone(const std::vector<std::string>& roots, PosixIo& io)
    : io_(io) {
  for (const auto& root : roots) {
    roots_.push_back(normalize_absolute_path(root));
  }
}

int FilesystemDropzone::open_directory(const std::string& directory) {
  const std::string path = normalize_absolute_path(directory);
  bool allowed = false;
  for (const auto& root : roots_) {
    allowed = allowed || path_is_within(path, root);
  }
  if (!allowed) {
    throw Failure(FailureKind::permanent,
                  "directory " + quoted(path) + " is outside the allowed filesystem_roots");
  }
  int fd = io_.openat(AT_FDCWD, "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0) {
    fail(errno, "cannot open '/'");
  }
  std::string walked;
  std::istringstream parts(path);
  std::string part;
  while (std::getline(parts, part, '/')) {
    if (part.empty()) {
      continue;
    }
    walked += "/" + part;
    int next = io_.openat(fd, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
    if (next < 0 && errno == ENOENT) {
      // Missing directories below a root are created; the root itself must exist.
      bool below_root = false;
      for (const auto& root : roots_) {
        below_root = below_root || (path_is_within(walked, root) && walked != root);
      }
      if (below_root && (io_.mkdirat(fd, part.c_str(), 0750) == 0 || errno == EEXIST)) {
        next = io_.openat(fd, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
      } else {
        errno = ENOENT;
      }
    }
    const int saved = errno;
    io_.close(fd);
    if (next < 0) {
      fail(saved == ENOTDIR ? ELOOP : saved,
           "cannot open directory " + quoted(walked) +
               (saved == ELOOP || saved == ENOTDIR ? " (symlinks are not followed)" : ""));
    }
    fd = next;
  }
  return fd;
}

void FilesystemDropzone::sweep_stale_temp_files(int dirfd, const std::string& directory) {
  {
    std::lock_guard lock(swept_mutex_);
    if (!swept_.insert(directory).second) {
      return;
    }
  }
  std::vector<std::string> names;
  if (io_.list_names(dirfd, names) != 0) {
    return;  // the write that follows reports a broken directory properly
  }
  static const std::string our_host = host_tag();
  const auto now = std::chrono::system_clock::now();
  for (const auto& name : names) {
    if (!is_temp_file_name(name)) {
      continue;
    }
    const auto owner = temp_owner(name);
    bool stale = false;
    if (owner && owner->host == our_host) {
      stale = owner->pid != ::getpid() && ::kill(owner->pid, 0) != 0 && errno == ESRCH;
    }
    struct stat st {};
    if (!stale && io_.fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      const auto mtime = std::chrono::system_clock::from_time_t(st.st_mtime);
      stale = now - mtime > kForeignTempAge;
    }
    if (stale) {
      io_.unlinkat(dirfd, name.c_str(), 0);
    }
  }
}

void FilesystemDropzone::write_all(int fd, std::string_view bytes, const std::string& what) {
  while (!bytes.empty()) {
    const ssize_t n = io_.write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      fail(errno, "cannot write " + what);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

WriteResult FilesystemDropzone::write_file(const std::string& directory, const std::string& name,
                                           std::string_view bytes, WriteOptions options) {
  if (name.empty() || name.find('/') != std::string::npos || name.front() == '.') {
    throw Failure(FailureKind::permanent, "invalid file name " + quoted(name));
  }
  Fd dir(io_, open_directory(directory));
  const std::string dir_path = normalize_absolute_path(directory);
  const std::string final_path = dir_path + "/" + name;
  sweep_stale_temp_files(dir.get(), dir_path);

  struct stat st {};
  if (io_.fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    return {final_path, true};
  }
  if (errno != ENOENT) {
    fail(errno, "cannot check " + quoted(final_path));
  }

  const std::string write_name = options.atomic ? temp_file_name(name, temp_token()) : name;
  const std::string write_path = dir_path + "/" + write_name;
  Fd file(io_, io_.openat(dir.get(), write_name.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640));
  if (file.get() < 0) {
    if (!options.atomic && errno == EEXIST) {
      return {final_path, true};
    }
    fail(errno, "cannot create " + quoted(write_path));
  }
  try {
    write_all(file.get(), bytes, quoted(write_path));
    if (options.sync && io_.fsync(file.get()) != 0) {
      fail(errno, "cannot fsync " + quoted(write_path));
    }
    file.close(quoted(write_path));
    if (!options.atomic) {
      return {final_path, false};
    }
    if (io_.renameat_noreplace(dir.get(), write_name.c_str(), name.c_str()) != 0) {
      if (errno == EEXIST) {
        io_.unlinkat(dir.get(), write_name.c_str(), 0);
        return {final_path, true};
      }
      fail(errno, "cannot rename " + quoted(write_name) + " to " + quoted(name));
    }
  } catch (...) {
    io_.unlinkat(dir.get(), write_name.c_str(), 0);
    throw;
  }
  return {final_path, false};
}

void FilesystemDropzone::sync_directory(const std::string& directory) {
  Fd dir(io_, open_directory(directory));
  if (io_.fsync(dir.get()) != 0) {
    fail(errno, "cannot fsync directory " + quoted(normalize_absolute_path(directory)));
  }
}

}  // namespace exportd
