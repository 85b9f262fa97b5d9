// Breaker changes are logged and told to the metrics outside the lock.
#include "app/connection_health.h"

#include "logging/logging.h"

namespace exportd {

ConnectionHealth::ConnectionHealth(Metrics& metrics, CircuitBreaker::Options options, Now now)
    : metrics_(metrics), options_(options), now_(std::move(now)) {}

template <typename Change>
auto ConnectionHealth::observed(const std::string& connection_id, Change change) {
  std::lock_guard lock(mutex_);
  auto [it, first_seen] = breakers_.try_emplace(connection_id, options_);
  CircuitBreaker& b = it->second;
  const auto state = b.state();
  const int failures = b.consecutive_failures();
  auto result = change(b);
  if (first_seen || b.state() != state || b.consecutive_failures() != failures) {
    metrics_.connection_health(connection_id, b.state(), b.consecutive_failures());
  }
  return result;
}

CircuitBreaker::Admission ConnectionHealth::admit(const std::string& connection_id) {
  return observed(connection_id, [&](CircuitBreaker& b) { return b.admit(now_()); });
}

void ConnectionHealth::succeeded(const std::string& connection_id) {
  if (observed(connection_id, [](CircuitBreaker& b) { return b.record_success(); })) {
    log_event(Level::info, "connection resumed", {{"connection_id", connection_id}});
  }
}

template <typename Record>
CircuitBreaker::Clock::time_point ConnectionHealth::record_failure(const std::string& connection_id,
                                                                   const std::string& error,
                                                                   Record record,
                                                                   const char* message) {
  int failures = 0;
  std::chrono::milliseconds pause{};
  CircuitBreaker::Clock::time_point until{};
  const bool paused = observed(connection_id, [&](CircuitBreaker& b) {
    const bool changed = record(b, now_());
    failures = b.consecutive_failures();
    pause = b.current_pause();
    until = b.paused_until();
    return changed;
  });
  if (paused) {
    log_event(Level::warn, message,
              {{"connection_id", connection_id},
               {"consecutive_failures", failures},
               {"pause_ms", pause.count()},
               {"error", error}});
  }
  return until;
}

void ConnectionHealth::failed(const std::string& connection_id, const std::string& error) {
  record_failure(
      connection_id, error,
      [](CircuitBreaker& b, CircuitBreaker::Clock::time_point now) {
        return b.record_failure(now);
      },
      "connection paused after repeated failures");
}

CircuitBreaker::Clock::time_point ConnectionHealth::unavailable(const std::string& connection_id,
                                                                const std::string& error) {
  return record_failure(
      connection_id, error,
      [](CircuitBreaker& b, CircuitBreaker::Clock::time_point now) { return b.trip(now); },
      "connection paused until the dropzone is fixed");
}

CircuitBreaker::State ConnectionHealth::state(const std::string& connection_id) {
  return observed(connection_id, [](CircuitBreaker& b) { return b.state(); });
}

}  // namespace exportd
