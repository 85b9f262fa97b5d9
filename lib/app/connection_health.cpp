#include "app/connection_health.h"

#include "app/logging.h"

namespace exportd {

ConnectionHealth::ConnectionHealth(CircuitBreaker::Options options, Now now)
    : options_(options), now_(std::move(now)) {}

CircuitBreaker& ConnectionHealth::breaker(const std::string& connection_id) {
  return breakers_.try_emplace(connection_id, options_).first->second;
}

CircuitBreaker::Admission ConnectionHealth::admit(const std::string& connection_id) {
  std::lock_guard lock(mutex_);
  return breaker(connection_id).admit(now_());
}

void ConnectionHealth::succeeded(const std::string& connection_id) {
  std::lock_guard lock(mutex_);
  if (breaker(connection_id).record_success()) {
    log_event(Level::info, "connection resumed", {{"connection_id", connection_id}});
  }
}

void ConnectionHealth::failed(const std::string& connection_id, const std::string& error) {
  std::lock_guard lock(mutex_);
  CircuitBreaker& b = breaker(connection_id);
  if (b.record_failure(now_())) {
    log_event(Level::warn, "connection paused after repeated failures",
              {{"connection_id", connection_id},
               {"consecutive_failures", b.consecutive_failures()},
               {"pause_ms", b.current_pause().count()},
               {"error", error}});
  }
}

CircuitBreaker::State ConnectionHealth::state(const std::string& connection_id) {
  std::lock_guard lock(mutex_);
  return breaker(connection_id).state();
}

}  // namespace exportd
