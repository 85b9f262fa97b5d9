// Health of every connection the daemon delivers to, shared by all workers:
// one circuit breaker per connection, and one log line per state change
// (never one per export), and each change told to the metrics.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "domain/circuit_breaker.h"
#include "ports/metrics.h"

namespace exportd {

class ConnectionHealth {
 public:
  using Now = std::function<CircuitBreaker::Clock::time_point()>;

  explicit ConnectionHealth(Metrics& metrics, CircuitBreaker::Options options = {},
                            Now now = CircuitBreaker::Clock::now);

  CircuitBreaker::Admission admit(const std::string& connection_id);
  void succeeded(const std::string& connection_id);
  // A transient failure reaching the connection (network, timeout, server).
  void failed(const std::string& connection_id, const std::string& error);
  // A failure only an operator fixes (Failure::unavailable): pauses the
  // connection at once. Returns when the pause ends.
  CircuitBreaker::Clock::time_point unavailable(const std::string& connection_id,
                                                const std::string& error);

  CircuitBreaker::State state(const std::string& connection_id);

 private:
  // Runs `change` on the connection's breaker; tells the metrics when the
  // state or the failure count moved. Returns what `change` returned.
  template <typename Change>
  auto observed(const std::string& connection_id, Change change);
  // Records a failure with `record` (record_failure or trip); logs `message`
  // when it paused the connection. Returns when the pause ends.
  template <typename Record>
  CircuitBreaker::Clock::time_point record_failure(const std::string& connection_id,
                                                   const std::string& error, Record record,
                                                   const char* message);

  Metrics& metrics_;
  CircuitBreaker::Options options_;
  Now now_;
  std::mutex mutex_;
  std::map<std::string, CircuitBreaker> breakers_;
};

}  // namespace exportd
