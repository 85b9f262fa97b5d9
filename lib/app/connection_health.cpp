// Breaker changes are logged after the lock is released; the metrics are told
// under it, so they never hear two changes of one connection out of order.
#include "app/connection_health.h"

#include <algorithm>

#include "logging/logging.h"

namespace exportd {

namespace {

int severity(CircuitBreaker::State state) {
  switch (state) {
    case CircuitBreaker::State::closed:
      return 0;
    case CircuitBreaker::State::half_open:
      return 1;
    case CircuitBreaker::State::open:
      return 2;
  }
  return 0;
}

struct Pause {
  const char* message = nullptr;  // none: nothing to log
  std::string key_name, key;
  int failures = 0;
  std::chrono::milliseconds pause{};
};

void log_pause(const Pause& p, const std::string& error) {
  if (p.message != nullptr) {
    log_event(Level::warn, p.message,
              {{p.key_name, p.key},
               {"consecutive_failures", p.failures},
               {"pause_ms", p.pause.count()},
               {"error", error}});
  }
}

Pause pause_of(const char* message, const char* key_name, const std::string& key,
               const CircuitBreaker& breaker) {
  return {message, key_name, key, breaker.consecutive_failures(), breaker.current_pause()};
}

}  // namespace

ConnectionHealth::ConnectionHealth(Metrics& metrics, CircuitBreaker::Options options, Now now)
    : metrics_(metrics), options_(options), now_(std::move(now)) {}

CircuitBreaker& ConnectionHealth::connection_breaker(const std::string& connection_id) {
  return connections_.try_emplace(connection_id, options_).first->second;
}

ConnectionHealth::Endpoint& ConnectionHealth::endpoint(const DeliveryRoute& route) {
  endpoint_of_[route.connection_id] = route.endpoint;
  connection_breaker(route.connection_id);
  return endpoints_.try_emplace(route.endpoint, Endpoint{CircuitBreaker(options_)}).first->second;
}

void ConnectionHealth::report(const std::string& connection_id) {
  const CircuitBreaker& own = connection_breaker(connection_id);
  auto state = own.state();
  int failures = own.consecutive_failures();
  if (const auto e = endpoint_of_.find(connection_id); e != endpoint_of_.end()) {
    const CircuitBreaker& shared = endpoints_.at(e->second).breaker;
    if (severity(shared.state()) > severity(state)) {
      state = shared.state();
    }
    failures = std::max(failures, shared.consecutive_failures());
  }
  auto [told, first] = reported_.try_emplace(connection_id, state, failures);
  if (first || told->second != std::pair(state, failures)) {
    told->second = {state, failures};
    metrics_.connection_health(connection_id, state, failures);
    if (publisher_ != nullptr) {
      publisher_->note(connection_id, state, failures);
    }
  }
}

void ConnectionHealth::report_changes(const DeliveryRoute& route) {
  report(route.connection_id);
  Endpoint& e = endpoints_.at(route.endpoint);
  const std::pair now_reported(e.breaker.state(), e.breaker.consecutive_failures());
  if (e.reported != now_reported) {
    e.reported = now_reported;
    for (const auto& [connection_id, endpoint_key] : endpoint_of_) {
      if (endpoint_key == route.endpoint) {
        report(connection_id);
      }
    }
  }
}

CircuitBreaker::Admission ConnectionHealth::admit(const DeliveryRoute& route) {
  std::lock_guard lock(mutex_);
  const auto now = now_();
  CircuitBreaker& shared = endpoint(route).breaker;
  CircuitBreaker& own = connection_breaker(route.connection_id);
  const auto a = shared.peek(now);
  const auto b = own.peek(now);
  if (!a.allowed || !b.allowed) {
    report_changes(route);
    return {false, std::max(a.allowed ? now : a.retry_at, b.allowed ? now : b.retry_at)};
  }
  shared.admit(now);
  own.admit(now);
  report_changes(route);
  return {true, now};
}

std::optional<CircuitBreaker::Clock::time_point> ConnectionHealth::paused_until(
    const DeliveryRoute& route) {
  std::lock_guard lock(mutex_);
  const auto now = now_();
  const auto a = endpoint(route).breaker.peek(now);
  const auto b = connection_breaker(route.connection_id).peek(now);
  report_changes(route);
  if (a.allowed && b.allowed) {
    return std::nullopt;
  }
  return std::max(a.allowed ? now : a.retry_at, b.allowed ? now : b.retry_at);
}

void ConnectionHealth::succeeded(const DeliveryRoute& route) {
  bool resumed = false;
  {
    std::lock_guard lock(mutex_);
    Endpoint& e = endpoint(route);
    e.proven = true;
    resumed = e.breaker.record_success();
    resumed = connection_breaker(route.connection_id).record_success() || resumed;
    report_changes(route);
  }
  if (resumed) {
    log_event(Level::info, "connection resumed",
              {{"connection_id", route.connection_id}, {"endpoint", route.endpoint}});
  }
}

void ConnectionHealth::released(const DeliveryRoute& route) {
  std::lock_guard lock(mutex_);
  endpoint(route).breaker.release_trial();
  connection_breaker(route.connection_id).release_trial();
  report_changes(route);
}

void ConnectionHealth::endpoint_succeeded(const DeliveryRoute& route) {
  bool resumed = false;
  {
    std::lock_guard lock(mutex_);
    Endpoint& e = endpoint(route);
    e.proven = true;
    resumed = e.breaker.record_success();
    report_changes(route);
  }
  if (resumed) {
    log_event(Level::info, "endpoint resumed", {{"endpoint", route.endpoint}});
  }
}

void ConnectionHealth::failed(const DeliveryRoute& route, const std::string& error) {
  Pause pause;
  {
    std::lock_guard lock(mutex_);
    const auto now = now_();
    Endpoint& e = endpoint(route);
    e.proven = false;
    if (e.breaker.record_failure(now)) {
      pause = pause_of("endpoint paused after repeated failures; its connections wait", "endpoint",
                       route.endpoint, e.breaker);
    }
    // A trial of the connection's own breaker that met a failing server ends
    // like the server's: open again.
    CircuitBreaker& own = connection_breaker(route.connection_id);
    if (own.state() == CircuitBreaker::State::half_open) {
      own.record_failure(now);
    }
    report_changes(route);
  }
  log_pause(pause, error);
}

CircuitBreaker::Clock::time_point ConnectionHealth::unavailable(const DeliveryRoute& route,
                                                                const std::string& error) {
  Pause pause;
  Time until;
  {
    std::lock_guard lock(mutex_);
    Endpoint& e = endpoint(route);
    e.proven = true;
    e.breaker.record_success();
    CircuitBreaker& own = connection_breaker(route.connection_id);
    if (own.trip(now_())) {
      pause = pause_of("connection paused until the dropzone is fixed", "connection_id",
                       route.connection_id, own);
    }
    until = own.paused_until();
    report_changes(route);
  }
  log_pause(pause, error);
  return until;
}

bool ConnectionHealth::trusted(const DeliveryRoute& route) {
  std::lock_guard lock(mutex_);
  const auto it = endpoints_.find(route.endpoint);
  if (it == endpoints_.end()) {
    return !route.network;
  }
  const CircuitBreaker& breaker = it->second.breaker;
  return (it->second.proven || !route.network) && breaker.consecutive_failures() == 0 &&
         breaker.state() == CircuitBreaker::State::closed;
}

CircuitBreaker::State ConnectionHealth::state(const std::string& connection_id) {
  std::lock_guard lock(mutex_);
  auto state = connection_breaker(connection_id).state();
  if (const auto e = endpoint_of_.find(connection_id); e != endpoint_of_.end()) {
    const auto shared = endpoints_.at(e->second).breaker.state();
    state = severity(shared) > severity(state) ? shared : state;
  }
  return state;
}

}  // namespace exportd
