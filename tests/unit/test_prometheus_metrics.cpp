// The metrics as Prometheus reads them: names, labels, values, and the
// queue's figures only while the database answers.
#include <catch2/catch.hpp>

#include "adapters/prometheus/prometheus_metrics.h"

using namespace exportd;
using namespace std::chrono_literals;

namespace {

class FixedQueueStats final : public QueueStats {
 public:
  std::optional<QueueSnapshot> snapshot() override { return next; }
  std::optional<QueueSnapshot> next;
};

}  // namespace

TEST_CASE("metrics: deliveries by outcome, with their durations in seconds", "[metrics]") {
  FixedQueueStats queue;
  PrometheusMetrics metrics(queue, "1.2.3");
  metrics.delivery_finished(DeliveryOutcome::sent, 3ms);
  metrics.delivery_finished(DeliveryOutcome::sent, 200ms);
  metrics.delivery_finished(DeliveryOutcome::retry, 12s);
  const auto text = metrics.scrape();
  CHECK_THAT(text, Catch::Contains("# TYPE orderflow_exportd_deliveries_total counter"));
  CHECK_THAT(text, Catch::Contains("orderflow_exportd_deliveries_total{outcome=\"sent\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("orderflow_exportd_deliveries_total{outcome=\"retry\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("orderflow_exportd_deliveries_total{outcome=\"failed\"} 0\n"));
  CHECK_THAT(text, Catch::Contains("# TYPE orderflow_exportd_delivery_duration_seconds histogram"));
  CHECK_THAT(text, Catch::Contains(
                       "orderflow_exportd_delivery_duration_seconds_count{outcome=\"sent\"} 2\n"));
  CHECK_THAT(text, Catch::Contains(
                       "orderflow_exportd_delivery_duration_seconds_sum{outcome=\"sent\"} 0.203"));
  CHECK_THAT(text, Catch::Contains("orderflow_exportd_delivery_duration_seconds_bucket{outcome="
                                   "\"sent\",le=\"0.005\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("orderflow_exportd_delivery_duration_seconds_bucket{outcome="
                                   "\"sent\",le=\"0.25\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("orderflow_exportd_delivery_duration_seconds_bucket{outcome="
                                   "\"retry\",le=\"10\"} 0\n"));
  CHECK_THAT(text, Catch::Contains("orderflow_exportd_build_info{version=\"1.2.3\"} 1\n"));
}

TEST_CASE("metrics: ack files by verdict", "[metrics]") {
  FixedQueueStats queue;
  PrometheusMetrics metrics(queue, "1");
  metrics.ack_file_recorded(AckFileVerdict::acked);
  metrics.ack_file_recorded(AckFileVerdict::acked);
  metrics.ack_file_recorded(AckFileVerdict::invalid);
  const auto text = metrics.scrape();
  CHECK_THAT(text, Catch::Contains("orderflow_exportd_ack_files_total{verdict=\"ACKED\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("orderflow_exportd_ack_files_total{verdict=\"INVALID\"} 1\n"));
}

TEST_CASE("metrics: each connection's circuit state, one of three set", "[metrics]") {
  FixedQueueStats queue;
  PrometheusMetrics metrics(queue, "1");
  metrics.connection_health("c1", CircuitBreaker::State::closed, 1);
  metrics.connection_health("c1", CircuitBreaker::State::open, 3);
  metrics.connection_health("c2", CircuitBreaker::State::closed, 0);
  const auto text = metrics.scrape();
  const std::string state = "orderflow_exportd_connection_circuit_state{connection_id=";
  CHECK_THAT(text, Catch::Contains(state + "\"c1\",state=\"open\"} 1\n"));
  CHECK_THAT(text, Catch::Contains(state + "\"c1\",state=\"closed\"} 0\n"));
  CHECK_THAT(text, Catch::Contains(state + "\"c1\",state=\"half_open\"} 0\n"));
  CHECK_THAT(text, Catch::Contains(state + "\"c2\",state=\"closed\"} 1\n"));
  CHECK_THAT(text,
             Catch::Contains(
                 "orderflow_exportd_connection_consecutive_failures{connection_id=\"c1\"} 3\n"));
}

TEST_CASE("metrics: workers on failing servers", "[metrics]") {
  FixedQueueStats queue;
  PrometheusMetrics metrics(queue, "1");
  CHECK_THAT(metrics.scrape(),
             Catch::Contains("orderflow_exportd_workers_on_failing_endpoints 0\n"));
  metrics.workers_on_failing_endpoints(2);
  CHECK_THAT(metrics.scrape(),
             Catch::Contains("orderflow_exportd_workers_on_failing_endpoints 2\n"));
}

TEST_CASE("metrics: queue depth and oldest PENDING age are read at each scrape", "[metrics]") {
  FixedQueueStats queue;
  PrometheusMetrics metrics(queue, "1");
  queue.next = QueueSnapshot{{{ExportStatus::pending, 3},
                              {ExportStatus::sent, 2},
                              {ExportStatus::acked, 7},
                              {ExportStatus::failed, 0}},
                             42s};
  auto text = metrics.scrape();
  CHECK_THAT(text, Catch::Contains("orderflow_exportd_database_up 1\n"));
  CHECK_THAT(text, Catch::Contains("# TYPE orderflow_exportd_exports gauge"));
  CHECK_THAT(text, Catch::Contains("orderflow_exportd_exports{status=\"PENDING\"} 3\n"));
  CHECK_THAT(text, Catch::Contains("orderflow_exportd_exports{status=\"ACKED\"} 7\n"));
  CHECK_THAT(text, Catch::Contains("orderflow_exportd_exports{status=\"FAILED\"} 0\n"));
  CHECK_THAT(text, Catch::Contains("orderflow_exportd_oldest_pending_age_seconds 42\n"));

  queue.next->oldest_pending_age.reset();
  CHECK_THAT(metrics.scrape(), Catch::Contains("orderflow_exportd_oldest_pending_age_seconds 0\n"));

  // The database is down: said so, and no stale figures.
  queue.next.reset();
  text = metrics.scrape();
  CHECK_THAT(text, Catch::Contains("orderflow_exportd_database_up 0\n"));
  CHECK_THAT(text, !Catch::Contains("orderflow_exportd_exports"));
  CHECK_THAT(text, !Catch::Contains("orderflow_exportd_oldest_pending_age_seconds"));
}

TEST_CASE("metrics: overdue exports per connection, none as 0", "[metrics]") {
  FixedQueueStats queue;
  PrometheusMetrics metrics(queue, "1");
  queue.next =
      QueueSnapshot{{{ExportStatus::sent, 5}}, std::nullopt, {{"c1", {3, 7200s}}, {"c2", {}}}};
  const auto text = metrics.scrape();
  CHECK_THAT(text, Catch::Contains("# TYPE orderflow_exportd_exports_ack_overdue gauge"));
  CHECK_THAT(text,
             Catch::Contains("orderflow_exportd_exports_ack_overdue{connection_id=\"c1\"} 3\n"));
  CHECK_THAT(text,
             Catch::Contains("orderflow_exportd_exports_ack_overdue{connection_id=\"c2\"} 0\n"));
  queue.next.reset();
  CHECK_THAT(metrics.scrape(), !Catch::Contains("orderflow_exportd_exports_ack_overdue"));
}

TEST_CASE("metrics: what retention removed, by kind, every kind from the start", "[metrics]") {
  FixedQueueStats queue;
  PrometheusMetrics metrics(queue, "1.2.3");
  metrics.pruned(PruneKind::ack_files, 120);
  metrics.pruned(PruneKind::ack_files, 3);
  metrics.pruned(PruneKind::audit_entries, 5000);
  const auto text = metrics.scrape();
  CHECK_THAT(text, Catch::Contains("# TYPE orderflow_exportd_pruned_total counter"));
  CHECK_THAT(text, Catch::Contains("orderflow_exportd_pruned_total{kind=\"ack_files\"} 123\n"));
  CHECK_THAT(text,
             Catch::Contains("orderflow_exportd_pruned_total{kind=\"audit_entries\"} 5000\n"));
  CHECK_THAT(text, Catch::Contains("orderflow_exportd_pruned_total{kind=\"exports\"} 0\n"));
}
