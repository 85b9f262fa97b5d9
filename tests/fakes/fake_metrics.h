// Metrics that remember what they were told, for tests of the app layer.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "ports/metrics.h"

namespace exportd::testing {

class FakeMetrics final : public Metrics {
 public:
  struct HealthChange {
    std::string connection_id;
    CircuitBreaker::State state;
    int consecutive_failures;
    bool operator==(const HealthChange&) const = default;
  };

  void delivery_finished(DeliveryOutcome outcome, std::chrono::duration<double> took) override {
    std::lock_guard lock(mutex_);
    ++deliveries_[outcome];
    durations_.push_back(took);
  }
  void ack_file_recorded(AckFileVerdict verdict) override {
    std::lock_guard lock(mutex_);
    ++ack_files_[to_string(verdict)];
  }
  void connection_health(const std::string& connection_id, CircuitBreaker::State state,
                         int consecutive_failures) override {
    std::lock_guard lock(mutex_);
    health_changes_.push_back({connection_id, state, consecutive_failures});
  }

  void workers_on_failing_endpoints(size_t workers) override {
    std::lock_guard lock(mutex_);
    workers_on_failing_endpoints_ = workers;
  }
  size_t workers_on_failing_endpoints() {
    std::lock_guard lock(mutex_);
    return workers_on_failing_endpoints_;
  }

  void pruned(PruneKind kind, size_t count) override {
    std::lock_guard lock(mutex_);
    pruned_[kind] += count;
  }

  size_t pruned(PruneKind kind) {
    std::lock_guard lock(mutex_);
    return pruned_[kind];
  }
  int deliveries(DeliveryOutcome outcome) {
    std::lock_guard lock(mutex_);
    return deliveries_[outcome];
  }
  std::vector<std::chrono::duration<double>> durations() {
    std::lock_guard lock(mutex_);
    return durations_;
  }
  std::map<std::string, int> ack_files() {
    std::lock_guard lock(mutex_);
    return ack_files_;
  }
  std::vector<HealthChange> health_changes() {
    std::lock_guard lock(mutex_);
    return health_changes_;
  }

 private:
  std::mutex mutex_;
  std::map<DeliveryOutcome, int> deliveries_;
  std::vector<std::chrono::duration<double>> durations_;
  std::map<std::string, int> ack_files_;
  std::vector<HealthChange> health_changes_;
  std::map<PruneKind, size_t> pruned_;
  size_t workers_on_failing_endpoints_ = 0;
};

}  // namespace exportd::testing
