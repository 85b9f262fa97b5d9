// /metrics and /healthz over real HTTP, the queue's figures from a real
// database.
#include <sys/socket.h>

#include <catch2/catch.hpp>

#include "adapters/postgres/pg_queue_stats.h"
#include "adapters/prometheus/metrics_endpoint.h"
#include "adapters/prometheus/prometheus_metrics.h"
#include "domain/failure.h"
#include "tests/support/http.h"
#include "tests/support/pg_cluster.h"
#include "tests/support/process.h"
#include "tests/support/seed.h"

using namespace exportd;
using namespace exportd::testing;

namespace {

// The value of one series in an exposition; -1 when it is not there.
double sample(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + series.size() + 2));
}

}  // namespace

TEST_CASE("metrics endpoint: the queue as the database has it, on a free port", "[metrics]") {
  const std::string url = PgCluster::shared().fresh_database();
  const auto org = seed_org(url, "acme", "/drop/exports", "/drop/acks");
  const auto ids = seed_exports(url, org, 5, 1);
  mark_sent(url, {ids[0], ids[1]});
  query_value(url,
              "UPDATE erp_exports SET created_at = now() - interval '90 seconds'"
              " WHERE id = '" +
                  ids[4] + "' RETURNING 1");

  PgQueueStats queue(url);
  PrometheusMetrics metrics(queue, "9.9.9");
  metrics.delivery_finished(DeliveryOutcome::sent, std::chrono::milliseconds(2));
  MetricsEndpoint endpoint(
      "127.0.0.1:0", [&] { return metrics.scrape(); }, [] { return std::nullopt; });
  REQUIRE(endpoint.port() > 0);

  const auto response = http_get(endpoint.port(), "/metrics");
  CHECK(response.status == 200);
  CHECK(response.content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK_THAT(response.body, Catch::Contains("orderflow_exportd_exports{status=\"PENDING\"} 3\n"));
  CHECK_THAT(response.body, Catch::Contains("orderflow_exportd_exports{status=\"SENT\"} 2\n"));
  CHECK_THAT(response.body, Catch::Contains("orderflow_exportd_exports{status=\"ACKED\"} 0\n"));
  CHECK_THAT(response.body, Catch::Contains("orderflow_exportd_database_up 1\n"));
  CHECK_THAT(response.body,
             Catch::Contains("orderflow_exportd_deliveries_total{outcome=\"sent\"} 1\n"));
  // std::regex would recurse once per character of the whole page.
  const double oldest = sample(response.body, "orderflow_exportd_oldest_pending_age_seconds");
  CHECK(oldest >= 90);
  CHECK(oldest < 200);

  // Figures of now, not of the first scrape.
  mark_sent(url, {ids[2]});
  CHECK_THAT(http_get(endpoint.port(), "/metrics").body,
             Catch::Contains("orderflow_exportd_exports{status=\"PENDING\"} 2\n"));
}

TEST_CASE("metrics endpoint: the database down is a metric, not an error", "[metrics]") {
  PgQueueStats queue("postgresql://nobody@127.0.0.1:" + std::to_string(free_port()) + "/none");
  PrometheusMetrics metrics(queue, "1");
  MetricsEndpoint endpoint(
      "127.0.0.1:0", [&] { return metrics.scrape(); }, [] { return std::nullopt; });
  const auto response = http_get(endpoint.port(), "/metrics");
  CHECK(response.status == 200);
  CHECK_THAT(response.body, Catch::Contains("orderflow_exportd_database_up 0\n"));
  CHECK_THAT(response.body, !Catch::Contains("orderflow_exportd_exports{"));
}

TEST_CASE("metrics endpoint: /healthz says what is wrong with a 503", "[metrics]") {
  std::optional<std::string> problem;
  MetricsEndpoint endpoint(
      "127.0.0.1:0", [] { return std::string(); }, [&] { return problem; });
  auto response = http_get(endpoint.port(), "/healthz");
  CHECK(response.status == 200);
  CHECK(response.body == "ok\n");

  problem = "database unreachable";
  response = http_get(endpoint.port(), "/healthz");
  CHECK(response.status == 503);
  CHECK(response.body == "database unreachable\n");

  CHECK(http_request(endpoint.port(), "POST", "/healthz").status == 405);
  CHECK(http_get(endpoint.port(), "/").status == 404);
  CHECK(http_get(endpoint.port(), "/metrics/extra").status == 404);
}

TEST_CASE("metrics endpoint: /healthz names the servers holding workers, still healthy",
          "[metrics]") {
  std::optional<std::string> problem;
  std::string note;
  MetricsEndpoint endpoint(
      "127.0.0.1:0", [] { return std::string(); }, [&] { return problem; }, [&] { return note; });
  CHECK(http_get(endpoint.port(), "/healthz").body == "ok\n");
  note = "2 of 4 workers in calls to failing or unreached servers: sftp://a:22 (2)";
  auto response = http_get(endpoint.port(), "/healthz");
  CHECK(response.status == 200);
  CHECK(response.body == "ok\n" + note + "\n");
  problem = "database unreachable";
  CHECK(http_get(endpoint.port(), "/healthz").body == "database unreachable\n");
}

TEST_CASE("metrics endpoint: an address it cannot listen on is a clear error", "[metrics]") {
  MetricsEndpoint taken(
      "127.0.0.1:0", [] { return std::string(); }, [] { return std::nullopt; });
  const std::string listen = "127.0.0.1:" + std::to_string(taken.port());
  try {
    MetricsEndpoint second(
        listen, [] { return std::string(); }, [] { return std::nullopt; });
    FAIL("a second server listened on " << listen);
  } catch (const Failure& e) {
    CHECK(e.kind() == FailureKind::bad_config);
    CHECK_THAT(e.what(), Catch::StartsWith("cannot serve metrics on '" + listen + "': ") &&
                             Catch::Contains("Address already in use"));
  }
  // The first one still answers.
  CHECK(http_get(taken.port(), "/healthz").status == 200);
}

TEST_CASE("the server's free connections: max_connections less reserved and in use",
          "[metrics][postgres]") {
  const std::string url = PgCluster::shared().fresh_database();
  PgQueueStats stats(url);
  const auto before = stats.free_connections();
  REQUIRE(before.has_value());
  // The test cluster runs with max_connections = 200 and 3 reserved.
  CHECK(*before < 197);
  CHECK(*before > 0);
  pqxx::connection another(url);
  CHECK(stats.free_connections() == *before - 1);
}
