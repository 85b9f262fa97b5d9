// Idempotency keys as Redis SET NX EX commands over hiredis.
#include "adapters/redis/redis_idempotency_store.h"

#include <hiredis/hiredis.h>

#include <regex>

#include "domain/failure.h"

namespace exportd {

namespace {

constexpr timeval kTimeout{1, 0};

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

}  // namespace

RedisIdempotencyStore::RedisIdempotencyStore(const std::string& url) {
  static const std::regex form(R"(redis://([^:/]+)(?::(\d+))?(?:/(\d+))?)");
  std::smatch m;
  if (!std::regex_match(url, m, form)) {
    throw Failure(FailureKind::bad_config,
                  "redis url '" + url + "' is not of the form redis://host:port/db");
  }
  host_ = m[1];
  port_ = m[2].matched ? std::stoi(m[2]) : 6379;
  database_ = m[3].matched ? std::stoi(m[3]) : 0;
}

RedisIdempotencyStore::~RedisIdempotencyStore() {
  drop();
}

void RedisIdempotencyStore::drop() {
  if (context_ != nullptr) {
    redisFree(context_);
    context_ = nullptr;
  }
}

redisContext& RedisIdempotencyStore::connection() {
  if (context_ == nullptr) {
    context_ = redisConnectWithTimeout(host_.c_str(), port_, kTimeout);
    if (context_ == nullptr || context_->err != 0) {
      const std::string why = context_ != nullptr ? context_->errstr : "out of memory";
      drop();
      throw Failure(FailureKind::transient,
                    "cannot reach redis at '" + host_ + ":" + std::to_string(port_) + "': " + why);
    }
    redisSetTimeout(context_, kTimeout);
    if (database_ != 0) {
      Reply reply(static_cast<redisReply*>(redisCommand(context_, "SELECT %d", database_)));
      if (!reply || reply->type == REDIS_REPLY_ERROR) {
        drop();
        throw Failure(FailureKind::transient,
                      "cannot select redis database " + std::to_string(database_));
      }
    }
  }
  return *context_;
}

std::optional<std::string> RedisIdempotencyStore::get(const std::string& key) {
  Reply reply(
      static_cast<redisReply*>(redisCommand(&connection(), "GET %b", key.data(), key.size())));
  if (!reply || reply->type == REDIS_REPLY_ERROR) {
    drop();
    throw Failure(FailureKind::transient, "redis GET failed");
  }
  if (reply->type == REDIS_REPLY_NIL) {
    return std::nullopt;
  }
  return std::string(reply->str, reply->len);
}

void RedisIdempotencyStore::put(const std::string& key, const std::string& value,
                                std::chrono::seconds ttl) {
  Reply reply(static_cast<redisReply*>(
      redisCommand(&connection(), "SET %b %b NX EX %lld", key.data(), key.size(), value.data(),
                   value.size(), static_cast<long long>(ttl.count()))));
  if (!reply || reply->type == REDIS_REPLY_ERROR) {
    drop();
    throw Failure(FailureKind::transient, "redis SET failed");
  }
}

}  // namespace exportd
