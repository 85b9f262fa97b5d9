// The built binary against a real cluster, killed with SIGKILL again and
// again while it delivers: nothing may be lost or duplicated.
#include <catch2/catch.hpp>

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <random>
#include <set>
#include <thread>

#include "tests/e2e/daemon_harness.h"
#include "tests/support/pg_cluster.h"
#include "tests/support/process.h"
#include "tests/support/seed.h"

using namespace exportd::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST_CASE("SIGKILL during hundreds of deliveries loses and duplicates nothing", "[e2e]") {
  const std::string url = PgCluster::shared().fresh_database();
  DaemonHarness harness(url, "lease_s = 5\npoll_interval_s = 1\nbatch_size = 8\n");
  const auto org =
      seed_org(url, "acme", harness.root() + "/acme/exports", harness.root() + "/acme/acks");
  seed_exports(url, org, 600, 10);
  const auto sent = [&] {
    return std::stoi(query_value(url, "SELECT count(*) FROM erp_exports WHERE status = 'SENT'"));
  };

  // Each round: start, wait until deliveries are flowing, kill at a random
  // moment shortly after. Only kills that left work behind count.
  std::mt19937 random(42);
  int kills_mid_work = 0;
  for (int round = 0; round < 20 && kills_mid_work < 8; ++round) {
    const int before = sent();
    if (before == 600) {
      break;
    }
    Process daemon = harness.start();
    REQUIRE(eventually([&] { return sent() > before; }, 30s));
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 25));
    daemon.signal(SIGKILL);
    REQUIRE(daemon.wait(10s) == 128 + SIGKILL);
    kills_mid_work += sent() < 600 ? 1 : 0;
  }
  CHECK(kills_mid_work >= 5);
  // Let it finish: killed claims are taken over once their lease lapses.
  Process daemon = harness.start();
  REQUIRE(eventually([&] { return sent() == 600; }, 60s));
  daemon.signal(SIGTERM);
  REQUIRE(daemon.wait(10s) == 0);

  std::set<std::string> names_on_disk;
  for (const auto& e : fs::directory_iterator(harness.root() + "/acme/exports")) {
    const auto name = e.path().filename().string();
    CHECK_FALSE(name.ends_with(".tmp"));
    names_on_disk.insert(name);
  }
  std::set<std::string> names_in_db;
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  for (const auto& row : tx.exec("SELECT file_name, dropzone_path FROM erp_exports")) {
    names_in_db.insert(row[0].as<std::string>());
    CHECK(fs::path(row[1].as<std::string>()).filename() == row[0].as<std::string>());
  }
  CHECK(names_in_db.size() == 600);
  CHECK(names_on_disk == names_in_db);
  CHECK(query_value(url, "SELECT count(*) FROM draft_orders WHERE status = 'PUSHED'") == "600");
  // Exactly one DRAFT_PUSHED entry per draft: a delivery recorded twice shows here.
  CHECK(query_value(url, "SELECT count(*) FROM audit_log WHERE action = 'DRAFT_PUSHED'") == "600");
  CHECK(query_value(url,
                    "SELECT count(*) FROM draft_orders d WHERE (SELECT count(*) FROM audit_log a"
                    " WHERE a.action = 'DRAFT_PUSHED' AND a.entity_id = d.id) <> 1") == "0");
}

TEST_CASE("SIGTERM stops the daemon promptly with exit 0", "[e2e]") {
  const std::string url = PgCluster::shared().fresh_database();
  DaemonHarness harness(url, "");
  const auto org = seed_org(url, "acme", harness.root() + "/exports", harness.root() + "/acks");
  Process daemon = harness.start();
  seed_exports(url, org, 20, 1);
  REQUIRE(eventually(
      [&] {
        return query_value(url, "SELECT count(*) FROM erp_exports WHERE status = 'SENT'") == "20";
      },
      20s));
  const auto before = std::chrono::steady_clock::now();
  daemon.signal(SIGTERM);
  CHECK(daemon.wait(5s) == 0);
  CHECK(std::chrono::steady_clock::now() - before < 5s);
  std::ifstream log(harness.log_path());
  std::string line;
  bool delivered_line = false;
  while (std::getline(log, line)) {
    const auto json = nlohmann::json::parse(line);  // every line is one JSON object
    if (json["msg"] == "export delivered") {
      delivered_line = true;
      for (const char* key : {"export_id", "draft_order_id", "org", "attempt", "duration_ms"}) {
        CHECK(json.contains(key));
      }
    }
  }
  CHECK(delivered_line);
}
