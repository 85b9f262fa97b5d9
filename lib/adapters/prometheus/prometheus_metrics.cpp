// The daemon's counters and gauges in a prometheus-cpp registry.
#include "adapters/prometheus/prometheus_metrics.h"

#include <sstream>

#include <prometheus/text_serializer.h>

namespace exportd {

namespace {

constexpr std::array kOutcomeValues = {DeliveryOutcome::sent, DeliveryOutcome::retry,
                                       DeliveryOutcome::failed};

// Where an outcome's series sit in the arrays filled once at construction.
constexpr size_t slot(DeliveryOutcome outcome) {
  return static_cast<size_t>(outcome);
}

constexpr std::array kCircuitStates = {CircuitBreaker::State::closed, CircuitBreaker::State::open,
                                       CircuitBreaker::State::half_open};

// A local write takes milliseconds, a slow SFTP server seconds; the top
// buckets sit at the default operation timeout.
const prometheus::Histogram::BucketBoundaries kDeliveryBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

prometheus::MetricFamily gauge_family(std::string name, std::string help) {
  return {.name = std::move(name), .help = std::move(help), .type = prometheus::MetricType::Gauge};
}

prometheus::ClientMetric gauge_value(double value,
                                     std::vector<prometheus::ClientMetric::Label> labels = {}) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  metric.gauge.value = value;
  return metric;
}

}  // namespace

PrometheusMetrics::PrometheusMetrics(QueueStats& queue, const std::string& version)
    : queue_(queue),
      registry_(std::make_shared<prometheus::Registry>()),
      ack_files_(prometheus::BuildCounter()
                     .Name("orderflow_exportd_ack_files_total")
                     .Help("ERP answer files recorded, by the verdict stored with them")
                     .Register(*registry_)),
      circuit_state_(prometheus::BuildGauge()
                         .Name("orderflow_exportd_connection_circuit_state")
                         .Help("1 for the state each connection's circuit breaker is in "
                               "(closed: healthy, open: paused, half_open: trying again)")
                         .Register(*registry_)),
      consecutive_failures_(prometheus::BuildGauge()
                                .Name("orderflow_exportd_connection_consecutive_failures")
                                .Help("Transient failures in a row reaching each connection")
                                .Register(*registry_)),
      pruned_(prometheus::BuildCounter()
                  .Name("orderflow_exportd_pruned_total")
                  .Help("What retention removed, by kind (ack_files, ack_file_records, "
                        "archive_copies, exports, audit_entries)")
                  .Register(*registry_)),
      workers_on_failing_endpoints_(
          prometheus::BuildGauge()
              .Name("orderflow_exportd_workers_on_failing_endpoints")
              .Help("Export workers holding batches for servers whose last call failed or "
                    "that were never reached (at most half the workers)")
              .Register(*registry_)
              .Add({})) {
  // Every kind from the start, so a rate over it is defined before the first removal.
  for (const auto kind : kPruneKinds) {
    pruned_.Add({{"kind", std::string(to_string(kind))}});
  }
  auto& deliveries = prometheus::BuildCounter()
                         .Name("orderflow_exportd_deliveries_total")
                         .Help("Delivery attempts, by outcome (sent, retry, failed)")
                         .Register(*registry_);
  auto& seconds = prometheus::BuildHistogram()
                      .Name("orderflow_exportd_delivery_duration_seconds")
                      .Help("From the start of an export's write to its recorded outcome")
                      .Register(*registry_);
  for (const auto outcome : kOutcomeValues) {
    const prometheus::Labels labels{{"outcome", to_string(outcome)}};
    deliveries_.at(slot(outcome)) = &deliveries.Add(labels);
    delivery_seconds_.at(slot(outcome)) = &seconds.Add(labels, kDeliveryBuckets);
  }
  prometheus::BuildGauge()
      .Name("orderflow_exportd_build_info")
      .Help("The running version")
      .Register(*registry_)
      .Add({{"version", version}})
      .Set(1);
}

void PrometheusMetrics::delivery_finished(DeliveryOutcome outcome,
                                          std::chrono::duration<double> took) {
  deliveries_[slot(outcome)]->Increment();
  delivery_seconds_[slot(outcome)]->Observe(took.count());
}

void PrometheusMetrics::ack_file_recorded(AckFileVerdict verdict) {
  ack_files_.Add({{"verdict", to_string(verdict)}}).Increment();
}

void PrometheusMetrics::connection_health(const std::string& connection_id,
                                          CircuitBreaker::State state, int consecutive_failures) {
  for (const auto s : kCircuitStates) {
    circuit_state_.Add({{"connection_id", connection_id}, {"state", to_string(s)}})
        .Set(s == state ? 1 : 0);
  }
  consecutive_failures_.Add({{"connection_id", connection_id}}).Set(consecutive_failures);
}

void PrometheusMetrics::workers_on_failing_endpoints(size_t workers) {
  workers_on_failing_endpoints_.Set(static_cast<double>(workers));
}

void PrometheusMetrics::pruned(PruneKind kind, size_t count) {
  pruned_.Add({{"kind", std::string(to_string(kind))}}).Increment(static_cast<double>(count));
}

std::string PrometheusMetrics::scrape() {
  auto families = registry_->Collect();
  const auto snapshot = queue_.snapshot();
  auto up = gauge_family("orderflow_exportd_database_up",
                         "1 when the database answered this scrape's queue query");
  up.metric.push_back(gauge_value(snapshot ? 1 : 0));
  families.push_back(std::move(up));
  if (snapshot) {
    auto exports = gauge_family("orderflow_exportd_exports", "Exports in the queue, by status");
    for (const auto& [status, count] : snapshot->exports_by_status) {
      exports.metric.push_back(
          gauge_value(static_cast<double>(count), {{"status", std::string(to_string(status))}}));
    }
    families.push_back(std::move(exports));
    auto oldest = gauge_family("orderflow_exportd_oldest_pending_age_seconds",
                               "Age of the oldest PENDING export; 0 when none waits");
    oldest.metric.push_back(gauge_value(static_cast<double>(
        snapshot->oldest_pending_age.value_or(std::chrono::seconds(0)).count())));
    families.push_back(std::move(oldest));
    auto overdue = gauge_family("orderflow_exportd_exports_ack_overdue",
                                "SENT exports past their connection's ack deadline, unanswered");
    for (const auto& [connection_id, figures] : snapshot->ack_overdue) {
      overdue.metric.push_back(
          gauge_value(static_cast<double>(figures.exports), {{"connection_id", connection_id}}));
    }
    families.push_back(std::move(overdue));
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace exportd
