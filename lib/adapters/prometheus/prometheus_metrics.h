// The Metrics port on prometheus-cpp: counters and histograms kept in a
// registry, and the queue's figures read from the database at each scrape
// (so they are never a stale copy, and absent when the database is down).
#pragma once

#include <array>
#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "ports/metrics.h"
#include "ports/queue_stats.h"

namespace exportd {

class PrometheusMetrics final : public Metrics {
 public:
  PrometheusMetrics(QueueStats& queue, const std::string& version);

  void delivery_finished(DeliveryOutcome outcome, std::chrono::duration<double> took) override;
  void ack_file_recorded(AckFileVerdict verdict) override;
  void connection_health(const std::string& connection_id, CircuitBreaker::State state,
                         int consecutive_failures) override;
  void workers_on_failing_endpoints(size_t workers) override;
  void pruned(PruneKind kind, size_t count) override;

  // Every metric in the text exposition format (what /metrics serves).
  std::string scrape();

 private:
  static constexpr size_t kOutcomes = 3;

  QueueStats& queue_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::array<prometheus::Counter*, kOutcomes> deliveries_{};
  std::array<prometheus::Histogram*, kOutcomes> delivery_seconds_{};
  prometheus::Family<prometheus::Counter>& ack_files_;
  prometheus::Family<prometheus::Gauge>& circuit_state_;
  prometheus::Family<prometheus::Gauge>& consecutive_failures_;
  prometheus::Family<prometheus::Counter>& pruned_;
  prometheus::Gauge& workers_on_failing_endpoints_;
};

}  // namespace exportd
