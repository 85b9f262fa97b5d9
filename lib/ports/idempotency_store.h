// Port: remembered answers of repeatable commands (Redis in production).
// Methods throw Failure(transient) when the store cannot be reached; callers
// then fall back to the database's state rules.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace exportd {

class IdempotencyStore {
 public:
  virtual ~IdempotencyStore() = default;
  virtual std::optional<std::string> get(const std::string& key) = 0;
  // Remembers `value` for `ttl` unless the key is already set.
  virtual void put(const std::string& key, const std::string& value, std::chrono::seconds ttl) = 0;
};

}  // namespace exportd
