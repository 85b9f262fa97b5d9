// `prune` of the built binary against a real database and a local dropzone:
// a dry run changes nothing, the real run removes what it counted.
#include <catch2/catch.hpp>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/e2e/daemon_harness.h"
#include "tests/support/pg_cluster.h"
#include "tests/support/seed.h"

using namespace exportd::testing;
namespace fs = std::filesystem;

namespace {

std::string day_before(int days) {
  const auto at = std::chrono::system_clock::now() - std::chrono::hours(24 * days);
  const std::time_t seconds = std::chrono::system_clock::to_time_t(at);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[16];
  return {text, std::strftime(text, sizeof text, "%Y-%m-%d", &utc)};
}

}  // namespace

TEST_CASE("prune --dry-run counts, prune removes, each per kind", "[e2e][cli][retention]") {
  const auto url = PgCluster::shared().fresh_database();
  const DaemonHarness harness(url, "", "[retention]\nack_files_days = 30\naudit_days = 365\n");
  const std::string acks = harness.root() + "/acme/acks";
  const auto org = seed_org(url, "acme", harness.root() + "/acme/exports", acks);
  const std::string old_day = day_before(45);
  const std::string young_day = day_before(3);
  for (const auto& day : {old_day, young_day}) {
    fs::create_directories(acks + "/processed/" + day);
    fs::create_directories(acks + "/error/" + day);
    std::ofstream(acks + "/processed/" + day + "/ack_a.json") << "{}";
    std::ofstream(acks + "/processed/" + day + "/ack_b.json") << "{}";
    std::ofstream(acks + "/error/" + day + "/ack_c.json") << "{";
  }
  query_value(url,
              "INSERT INTO audit_log (org_id, action, entity_type, entity_id, created_at)"
              " SELECT '" +
                  org.org_id +
                  "', 'EXPORT_ACKED', 'erp_export', gen_random_uuid(),"
                  " now() - make_interval(days => d) FROM generate_series(398, 400) d"
                  " RETURNING 1");
  const std::vector<std::string> config{"--config", harness.config_path()};
  const auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), config.begin(), config.end());
    return run_cli(args);
  };

  const auto dry = with({"prune", "--dry-run", "--json"});
  INFO(dry.err);
  REQUIRE(dry.status == 0);
  const auto counted = nlohmann::json::parse(dry.out);
  CHECK(counted["dry_run"] == true);
  CHECK(counted["removed"]["ack_files"] == 3);
  CHECK(counted["removed"]["audit_entries"] == 3);
  CHECK(counted["notes"].size() == 1);  // no archive configured: copies kept
  CHECK(fs::exists(acks + "/processed/" + old_day + "/ack_a.json"));
  CHECK(query_value(url, "SELECT count(*) FROM audit_log") == "3");

  const auto real = with({"prune"});
  INFO(real.err);
  CHECK(real.status == 0);
  CHECK_THAT(real.out, Catch::Contains("ack_files: 3 removed\n") &&
                           Catch::Contains("audit_entries: 3 removed\n") &&
                           Catch::Contains("exports: 0 removed\n"));
  CHECK(names_in(acks + "/processed") == std::vector<std::string>{young_day});
  CHECK(names_in(acks + "/error") == std::vector<std::string>{young_day});
  CHECK(query_value(url, "SELECT count(*) FROM audit_log") == "0");

  const auto help = with({"prune", "--help"});
  CHECK(help.status == 0);
  CHECK_THAT(help.out, Catch::Contains("--dry-run") && Catch::Contains("Exit status: 0 success"));
}

TEST_CASE("prune exits 1 when the database cannot be reached", "[e2e][cli][retention]") {
  const DaemonHarness harness("postgresql://nobody@127.0.0.1:1/none", "");
  const auto r = run_cli({"prune", "--config", harness.config_path()});
  CHECK(r.status == 1);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}
