// The built daemon with ack deadlines of two seconds and an ERP that never
// answers: "fail" ends the export FAILED with its draft ERROR, "alert" keeps
// it SENT and `status --json` counts it; one warning per export.
#include <catch2/catch.hpp>

#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/e2e/daemon_harness.h"
#include "tests/support/pg_cluster.h"
#include "tests/support/process.h"
#include "tests/support/seed.h"

using namespace exportd::testing;
using namespace std::chrono_literals;

TEST_CASE("ack deadlines e2e: fail and alert after two seconds without an answer",
          "[e2e][ack_deadlines]") {
  const std::string url = PgCluster::shared().fresh_database();
  DaemonHarness harness(url, "poll_interval_s = 1\n");
  const auto failing =
      seed_org(url, "acme", harness.root() + "/acme/exports", harness.root() + "/acme/acks");
  const auto alerting =
      seed_org(url, "beta", harness.root() + "/beta/exports", harness.root() + "/beta/acks");
  // Through `connection set`, as an operator would.
  const auto settings = [&](const std::string& slug, const std::string& on_timeout) {
    std::ofstream(harness.dir() + "/" + slug + ".json")
        << R"({"mode":"filesystem","export_path":")" << harness.root() << "/" << slug
        << R"(/exports","ack_path":")" << harness.root() << "/" << slug
        << R"(/acks","ack_timeout_s":2,"on_ack_timeout":")" << on_timeout << R"("})";
    const auto set = run_cli({"connection", "set", slug, harness.dir() + "/" + slug + ".json",
                              "--config", harness.config_path()});
    REQUIRE(set.status == 0);
  };
  settings("acme", "fail");
  settings("beta", "alert");
  const auto failed_id = seed_exports(url, failing, 1, 1).front();
  const auto overdue_id = seed_exports(url, alerting, 1, 1).front();
  const auto column = [&](const std::string& id, const std::string& expression) {
    return query_value(url, "SELECT " + expression + " FROM erp_exports WHERE id = '" + id + "'");
  };

  Process daemon = harness.start();
  REQUIRE(eventually(
      [&] {
        return column(failed_id, "status") == "FAILED" &&
               column(overdue_id, "ack_overdue_at IS NOT NULL") == "t";
      },
      40s));
  CHECK(column(failed_id, "error_json->>'code'") == "ACK_TIMEOUT");
  CHECK(column(failed_id, "error_json->>'ack_timeout_s'") == "2");
  CHECK(column(failed_id,
               "error_json->>'sent_at' = to_char(sent_at AT TIME ZONE 'UTC',"
               " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')") == "t");
  CHECK(query_value(url,
                    "SELECT d.status FROM draft_orders d JOIN erp_exports e ON "
                    "e.draft_order_id = d.id WHERE e.id = '" +
                        failed_id + "'") == "ERROR");
  CHECK(column(overdue_id, "status") == "SENT");

  const auto status = run_cli({"status", "--json", "--config", harness.config_path()});
  REQUIRE(status.status == 0);
  const auto report = nlohmann::json::parse(status.out);
  std::map<std::string, nlohmann::json> by_org;
  for (const auto& c : report["connections"]) {
    by_org[c["org"].get<std::string>()] = c;
  }
  CHECK(by_org["beta"]["ack_overdue"] == 1);
  CHECK(by_org["beta"]["oldest_ack_overdue_age_s"].get<long long>() >= 2);
  CHECK(by_org["acme"]["ack_overdue"] == 0);
  CHECK(by_org["acme"]["oldest_ack_overdue_age_s"].is_null());

  const auto stopping = std::chrono::steady_clock::now();
  daemon.signal(SIGTERM);
  CHECK(daemon.wait(5s) == 0);
  CHECK(std::chrono::steady_clock::now() - stopping < 5s);

  std::map<std::string, std::vector<nlohmann::json>> warnings;  // by export id
  std::ifstream log(harness.log_path());
  for (std::string line; std::getline(log, line);) {
    const auto event = nlohmann::json::parse(line);
    if (event["msg"].get<std::string>().find("ack deadline") != std::string::npos &&
        event.contains("export_id")) {
      warnings[event["export_id"].get<std::string>()].push_back(event);
    }
  }
  REQUIRE(warnings[failed_id].size() == 1);
  REQUIRE(warnings[overdue_id].size() == 1);
  CHECK(warnings[failed_id][0]["level"] == "warning");
  CHECK(warnings[failed_id][0]["org"] == "acme");
  CHECK(warnings[failed_id][0]["connection_id"] == failing.connection_id);
  CHECK(warnings[failed_id][0]["ack_timeout_s"] == 2);
  CHECK(warnings[overdue_id][0]["org"] == "beta");
  CHECK(warnings[overdue_id][0]["sent_at"] ==
        query_value(url,
                    "SELECT to_char(sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
                    " FROM erp_exports WHERE id = '" +
                        overdue_id + "'"));
}
