// IdempotencyStore on Redis (hiredis): one connection, opened lazily with a
// short timeout so a missing Redis costs the command a moment, not a hang.
#pragma once

#include <memory>
#include <string>

#include "ports/idempotency_store.h"

struct redisContext;

namespace exportd {

class RedisIdempotencyStore : public IdempotencyStore {
 public:
  // "redis://host:port/db"; throws Failure(bad_config) for another form.
  explicit RedisIdempotencyStore(const std::string& url);
  ~RedisIdempotencyStore() override;
  RedisIdempotencyStore(const RedisIdempotencyStore&) = delete;
  RedisIdempotencyStore& operator=(const RedisIdempotencyStore&) = delete;

  std::optional<std::string> get(const std::string& key) override;
  void put(const std::string& key, const std::string& value, std::chrono::seconds ttl) override;

 private:
  redisContext& connection();
  void drop();

  std::string host_;
  int port_ = 6379;
  int database_ = 0;
  redisContext* context_ = nullptr;
};

}  // namespace exportd
