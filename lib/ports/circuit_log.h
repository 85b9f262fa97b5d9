// Port: where the daemon publishes its connections' delivery states, for
// `status` to show (Postgres in production).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "domain/circuit_breaker.h"

namespace exportd {

struct CircuitChange {
  std::string connection_id;
  CircuitBreaker::State state = CircuitBreaker::State::closed;
  int consecutive_failures = 0;
  std::chrono::system_clock::time_point changed_at;
};

class CircuitLog {
 public:
  virtual ~CircuitLog() = default;
  // Each connection's latest state replaces the one stored. Throws
  // Failure(transient) when the store cannot be reached.
  virtual void publish(const std::vector<CircuitChange>& changes) = 0;
};

}  // namespace exportd
