// The worker pool, the NOTIFY listener and the filesystem dropzone together,
// against a real PostgreSQL cluster and a real directory.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <thread>
#include <utility>

#include "adapters/filesystem/filesystem_dropzone.h"
#include "adapters/postgres/pg_export_queue.h"
#include "adapters/postgres/pg_wakeup_listener.h"
#include "app/connection_health.h"
#include "app/export_worker_pool.h"
#include "app/sha256.h"
#include "domain/connection_settings.h"
#include "tests/fakes/fake_metrics.h"
#include "tests/support/files.h"
#include "tests/support/json_schema.h"
#include "tests/support/pg_cluster.h"
#include "tests/support/process.h"
#include "tests/support/seed.h"
#include "tests/support/tmpfs.h"

using namespace exportd;
using namespace exportd::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct Daemon {
  Daemon(const std::string& url, const std::string& root, WorkerPoolOptions options,
         CircuitBreaker::Options breaker = {})
      : dropzone({root}),
        health(metrics, breaker),
        pool(
            std::move(options),
            [url](int i) { return std::make_unique<PgExportQueue>(url, "t-" + std::to_string(i)); },
            [this](int, const ClaimedExport&, const ConnectionSettings&) -> Dropzone& {
              return dropzone;
            },
            health, metrics),
        listener(url, [this] { pool.wake(); }) {
    pool.start();
  }
  FilesystemDropzone dropzone;
  FakeMetrics metrics;
  ConnectionHealth health;
  ExportWorkerPool pool;
  PgWakeupListener listener;
};

std::string count(const std::string& url, const std::string& status) {
  return query_value(url, "SELECT count(*) FROM erp_exports WHERE status = '" + status + "'");
}

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  if (fs::exists(dir)) {
    for (const auto& e : fs::directory_iterator(dir)) {
      out.push_back(e.path());
    }
  }
  return out;
}

WorkerPoolOptions quiet_poll() {
  // A poll interval far longer than the test: only NOTIFY can wake the workers.
  return {.workers = 2, .batch_size = 16, .poll_interval = 600s, .lease = 30s, .retry = {}};
}

}  // namespace

TEST_CASE("new PENDING exports are delivered at once, one file each, recorded SENT",
          "[postgres][delivery]") {
  const std::string url = PgCluster::shared().fresh_database();
  const std::string root = make_temp_dir("exportd-drop");
  const auto org = seed_org(url, "acme", root + "/acme/exports", root + "/acme/acks");
  Daemon daemon(url, root, quiet_poll());

  seed_exports(url, org, 50, 10);
  REQUIRE(eventually([&] { return count(url, "SENT") == "50"; }, 15s));

  const auto files = files_in(root + "/acme/exports");
  REQUIRE(files.size() == 50);
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  for (const auto& row : tx.exec("SELECT file_name, dropzone_path, sha256, byte_size FROM "
                                 "erp_exports")) {
    const fs::path path = row[1].as<std::string>();
    CHECK(path.filename() == row[0].as<std::string>());
    std::ifstream in(path);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    CHECK(sha256_hex(bytes) == row[2].as<std::string>());
    CHECK(static_cast<long long>(bytes.size()) == row[3].as<long long>());
    const auto doc = nlohmann::json::parse(bytes);
    CHECK(doc["lines"].size() == 10);
    CHECK(doc["lines"][0]["line_total"] == "12.3000");
  }
  CHECK(query_value(url, "SELECT count(*) FROM draft_orders WHERE status = 'PUSHED'") == "50");
  CHECK(query_value(url, "SELECT count(*) FROM audit_log WHERE action = 'DRAFT_PUSHED'") == "50");
  fs::remove_all(root);
}

TEST_CASE("a dropzone outside the filesystem roots fails the export permanently, writes nothing",
          "[postgres][delivery]") {
  const std::string url = PgCluster::shared().fresh_database();
  const std::string root = make_temp_dir("exportd-drop");
  const std::string outside = make_temp_dir("exportd-outside");
  const auto org = seed_org(url, "evil", outside + "/exports", outside + "/acks");
  Daemon daemon(url, root, quiet_poll());
  seed_exports(url, org, 1, 1);
  REQUIRE(eventually([&] { return count(url, "FAILED") == "1"; }, 15s));
  CHECK(query_value(url, "SELECT error_json->>'category' FROM erp_exports") == "permanent");
  CHECK_THAT(query_value(url, "SELECT error_json->>'error' FROM erp_exports"),
             Catch::Contains("outside the allowed filesystem_roots"));
  CHECK(query_value(url, "SELECT status FROM draft_orders") == "ERROR");
  CHECK(files_in(outside).empty());
  fs::remove_all(root);
  fs::remove_all(outside);
}

TEST_CASE("a dropzone remounted read-only pauses the connection; the exports wait for the fix",
          "[postgres][delivery]") {
  const std::string url = PgCluster::shared().fresh_database();
  const std::string root = make_temp_dir("exportd-drop");
  {
    Tmpfs tmpfs(root);
    if (!tmpfs.error().empty()) {
      WARN("cannot mount a tmpfs on '" << root << "' (" << tmpfs.error()
                                       << "): read-only dropzone not tested");
      fs::remove_all(root);
      return;
    }
    fs::create_directories(root + "/acme/exports");
    REQUIRE(tmpfs.set_read_only(true));
    const auto org = seed_org(url, "acme", root + "/acme/exports", root + "/acme/acks");
    // One attempt each: were a read-only dropzone a failure of the export, it would end it.
    Daemon daemon(url, root,
                  {.workers = 2,
                   .batch_size = 4,
                   .poll_interval = 100ms,
                   .lease = 30s,
                   .retry = {.max_attempts = 1}},
                  {.initial_pause = 200ms, .max_pause = 400ms});
    seed_exports(url, org, 6, 1);
    // Paused, and paused again after a trial once the first pause was over.
    REQUIRE(eventually(
        [&] {
          const auto changes = daemon.metrics.health_changes();
          return std::count_if(changes.begin(), changes.end(), [](const auto& c) {
                   return c.state == CircuitBreaker::State::open;
                 }) >= 2;
        },
        15s));
    CHECK(count(url, "PENDING") == "6");
    CHECK(query_value(url, "SELECT count(*) FROM draft_orders WHERE status = 'ERROR'") == "0");
    // No export waiting for the fix has spent an attempt.
    CHECK(query_value(url,
                      "SELECT count(*) FROM erp_exports"
                      " WHERE lease_owner IS NULL AND attempts > 0") == "0");
    CHECK(files_in(root + "/acme/exports").empty());

    REQUIRE(tmpfs.set_read_only(false));
    REQUIRE(eventually([&] { return count(url, "SENT") == "6"; }, 15s));
    CHECK(files_in(root + "/acme/exports").size() == 6);
    CHECK(query_value(url, "SELECT count(*) FROM draft_orders WHERE status = 'PUSHED'") == "6");
    CHECK(query_value(url, "SELECT max(attempts) FROM erp_exports") == "1");
  }
  fs::remove_all(root);
}

TEST_CASE("a missing or inactive connection is a permanent failure", "[postgres][delivery]") {
  const std::string url = PgCluster::shared().fresh_database();
  const std::string root = make_temp_dir("exportd-drop");
  const auto org = seed_org(url, "acme", root + "/exports", root + "/acks");
  query_value(url, "UPDATE erp_connections SET is_active = false RETURNING 1");
  Daemon daemon(url, root, quiet_poll());
  seed_exports(url, org, 1, 1);
  REQUIRE(eventually([&] { return count(url, "FAILED") == "1"; }, 15s));
  CHECK_THAT(query_value(url, "SELECT error_json->>'error' FROM erp_exports"),
             Catch::Contains("missing or inactive"));
  fs::remove_all(root);
}

TEST_CASE("a file already delivered by an earlier attempt is not written again",
          "[postgres][delivery]") {
  const std::string url = PgCluster::shared().fresh_database();
  const std::string root = make_temp_dir("exportd-drop");
  const auto org = seed_org(url, "acme", root + "/exports", root + "/acks");
  seed_exports(url, org, 1, 1);
  // An earlier attempt claimed it, delivered the file, and crashed before recording.
  std::string name;
  {
    PgExportQueue crashed(url, "crashed-worker");
    name = crashed.claim({.max = 1, .lease = 30s}).at(0).file_name;
    query_value(url, "UPDATE erp_exports SET lease_expires_at = now() - interval '1s' RETURNING 1");
  }
  fs::create_directories(root + "/exports");
  std::ofstream(root + "/exports/" + name) << "earlier bytes";

  Daemon daemon(url, root, quiet_poll());
  daemon.pool.wake();
  REQUIRE(eventually([&] { return count(url, "SENT") == "1"; }, 15s));
  std::ifstream in(root + "/exports/" + name);
  CHECK(std::string((std::istreambuf_iterator<char>(in)), {}) == "earlier bytes");
  CHECK(files_in(root + "/exports").size() == 1);
  CHECK(query_value(url, "SELECT attempts FROM erp_exports") == "2");
  fs::remove_all(root);
}

TEST_CASE("the listener LISTENs again after the database restarts", "[postgres][delivery]") {
  auto& cluster = PgCluster::shared();
  const std::string url = cluster.fresh_database();
  const std::string root = make_temp_dir("exportd-drop");
  const auto org = seed_org(url, "acme", root + "/exports", root + "/acks");
  Daemon daemon(url, root, quiet_poll());
  seed_exports(url, org, 1, 1);
  REQUIRE(eventually([&] { return count(url, "SENT") == "1"; }, 15s));

  cluster.stop();
  cluster.start();
  // New work must wake the pool again, whether it arrives before or after the
  // listener has reconnected.
  seed_exports(url, org, 3, 1);
  CHECK(eventually([&] { return count(url, "SENT") == "4"; }, 15s));
  fs::remove_all(root);
}

TEST_CASE("an address is delivered with the digits Postgres stored", "[postgres][delivery]") {
  const std::string url = PgCluster::shared().fresh_database();
  const std::string root = make_temp_dir("exportd-drop");
  const auto org = seed_org(url, "acme", root + "/exports", root + "/acks");
  query_value(url,
              "UPDATE customers SET billing_address = '{\"n\": 12345678901234567890123,"
              " \"price\": 19.90, \"tiny\": -0.000000000000000000001, \"huge\": 1E+400,"
              " \"nested\": {\"a\": [1.10, {\"b\": 2.50}]}}' RETURNING 1");
  seed_exports(url, org, 1, 1);
  Daemon daemon(url, root, quiet_poll());
  REQUIRE(eventually([&] { return count(url, "PENDING") == "0"; }, 15s));
  REQUIRE(count(url, "SENT") == "1");

  const std::string stored = query_value(url, "SELECT billing_address::text FROM customers");
  CHECK_THAT(stored, Catch::Contains("12345678901234567890123") && Catch::Contains("19.90") &&
                         Catch::Contains("-0.000000000000000000001") &&
                         Catch::Contains("1" + std::string(400, '0')));
  const std::string bytes = slurp(query_value(url, "SELECT dropzone_path FROM erp_exports"));
  CHECK_THAT(bytes, Catch::Contains("\"billing_address\":" + stored + ","));
  fs::remove_all(root);
}

TEST_CASE("documents that break the contract fail with field and rule, and are never written",
          "[postgres][delivery]") {
  const std::string url = PgCluster::shared().fresh_database();
  const std::string root = make_temp_dir("exportd-drop");
  const auto org = seed_org(url, "acme", root + "/exports", root + "/acks");
  const auto ids = seed_exports(url, org, 4, 2);
  const auto draft_of = [&](size_t i) {
    return "(SELECT draft_order_id FROM erp_exports WHERE id = '" + ids.at(i) + "')";
  };
  // Rows the database allows and the schema forbids; ids[3] stays valid.
  query_value(
      url, "UPDATE draft_orders SET currency = 'eur' WHERE id = " + draft_of(0) + " RETURNING 1");
  query_value(url,
              "WITH c AS (INSERT INTO customers (org_id, name, billing_address)"
              "           VALUES ('" +
                  org.org_id +
                  "', 'Street Only', '\"Hauptstr. 1\"')"
                  "           RETURNING id)"
                  " UPDATE draft_orders SET customer_id = (SELECT id FROM c) WHERE id = " +
                  draft_of(1) + " RETURNING 1");
  query_value(url,
              "UPDATE draft_order_lines SET line_no = 0 WHERE line_no = 1 AND"
              " draft_order_id = " +
                  draft_of(2) + " RETURNING 1");

  Daemon daemon(url, root, quiet_poll());
  REQUIRE(eventually([&] { return count(url, "PENDING") == "0"; }, 15s));

  const std::vector<std::pair<std::string, std::string>> broken = {
      {"header.currency", "must match ^[A-Z]{3}$"},
      {"customer.billing_address", "must be of type object or null"},
      {"lines[0].line_no", "must be at least 1"},
  };
  for (size_t i = 0; i < broken.size(); ++i) {
    const auto value = [&](const std::string& expression) {
      return query_value(url, "SELECT " + expression +
                                  " FROM erp_exports e JOIN draft_orders d"
                                  " ON d.id = e.draft_order_id WHERE e.id = '" +
                                  ids[i] + "'");
    };
    INFO(broken[i].first);
    CHECK(value("e.status") == "FAILED");
    CHECK(value("e.error_json->>'category'") == "permanent");
    CHECK(value("e.error_json->>'field'") == broken[i].first);
    CHECK(value("e.error_json->>'rule'") == broken[i].second);
    CHECK_THAT(value("e.error_json->>'error'"), Catch::Contains(broken[i].first));
    CHECK(value("d.status") == "ERROR");
  }
  CHECK(count(url, "SENT") == "1");
  const auto delivered = files_in(root + "/exports");
  REQUIRE(delivered.size() == 1);
  CHECK(delivered[0] ==
        query_value(url, "SELECT dropzone_path FROM erp_exports WHERE id = '" + ids[3] + "'"));
  const std::string schema = published_schema();
  CHECK(schema_accepts(schema, {slurp(delivered[0])}).at(0));
  fs::remove_all(root);
}
