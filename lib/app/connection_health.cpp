#include "app/connection_health.h"

#include "app/logging.h"

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

void ConnectionHealth::failed(const std::string& connection_id, const std::string& error) {
  int failures = 0;
  std::chrono::milliseconds pause{};
  const bool paused = observed(connection_id, [&](CircuitBreaker& b) {
    const bool changed = b.record_failure(now_());
    failures = b.consecutive_failures();
    pause = b.current_pause();
    return changed;
  });
  if (paused) {
    log_event(Level::warn, "connection paused after repeated failures",
              {{"connection_id", connection_id},
               {"consecutive_failures", failures},
               {"pause_ms", pause.count()},
               {"error", error}});
  }
}

CircuitBreaker::State ConnectionHealth::state(const std::string& connection_id) {
  return observed(connection_id, [](CircuitBreaker& b) { return b.state(); });
}

}  // namespace exportd
