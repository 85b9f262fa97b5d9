// In-memory Archive for unit tests: keeps copies by name, fails on demand.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "domain/failure.h"
#include "ports/archive.h"

namespace exportd::testing {

class FakeArchive : public Archive {
 public:
  std::string put(const std::string& name, std::string_view bytes,
                  const std::string& sha256_hex) override {
    std::lock_guard lock(mutex);
    ++puts;
    if (put_failure) {
      throw Failure(*put_failure, "injected archive failure");
    }
    std::string location = "archive:" + name;
    copies[location] = std::string(bytes);
    digests[location] = sha256_hex;
    return location;
  }
  std::optional<std::string> get(const std::string& location) override {
    std::lock_guard lock(mutex);
    const auto found = copies.find(location);
    return found == copies.end() ? std::nullopt : std::optional(found->second);
  }
  void remove(const std::string& location) override {
    std::lock_guard lock(mutex);
    copies.erase(location);
  }

  std::mutex mutex;
  std::map<std::string, std::string> copies;   // by location
  std::map<std::string, std::string> digests;  // by location
  std::optional<FailureKind> put_failure;
  int puts = 0;
};

}  // namespace exportd::testing
