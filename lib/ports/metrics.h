// Port: the counts the daemon keeps as it works (Prometheus in production).
// Calls are cheap and thread-safe; nothing is exported unless an endpoint
// serves them.
#pragma once

#include <chrono>
#include <string>

#include "domain/ack_file.h"
#include "domain/circuit_breaker.h"
#include "domain/retention.h"

namespace exportd {

enum class DeliveryOutcome {
  sent,    // written and recorded SENT
  retry,   // failed, another attempt is scheduled
  failed,  // failed for good: the export is FAILED
};

inline const char* to_string(DeliveryOutcome outcome) {
  switch (outcome) {
    case DeliveryOutcome::sent:
      return "sent";
    case DeliveryOutcome::retry:
      return "retry";
    case DeliveryOutcome::failed:
      return "failed";
  }
  return "unknown";
}

class Metrics {
 public:
  virtual ~Metrics() = default;

  // One delivery attempt, from the start of its write to its outcome.
  virtual void delivery_finished(DeliveryOutcome outcome, std::chrono::duration<double> took) = 0;
  // One ack file recorded, by the verdict stored with it.
  virtual void ack_file_recorded(AckFileVerdict verdict) = 0;
  // A connection's breaker as it is now; said when it changes.
  virtual void connection_health(const std::string& connection_id, CircuitBreaker::State state,
                                 int consecutive_failures) = 0;
  // Export workers holding batches for endpoints whose last call failed or
  // that were never reached; said when it may have changed.
  virtual void workers_on_failing_endpoints(size_t workers) = 0;
  // What one retention run removed of a kind.
  virtual void pruned(PruneKind kind, size_t count) = 0;
};

}  // namespace exportd
