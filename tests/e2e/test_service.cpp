// The daemon as a systemd service: the notify protocol on a fake
// NOTIFY_SOCKET the test listens on, SIGHUP reloads, /metrics and /healthz.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <thread>

#include "adapters/prometheus/metrics_endpoint.h"
#include "tests/e2e/daemon_harness.h"
#include "tests/support/http.h"
#include "tests/support/pg_cluster.h"
#include "tests/support/process.h"
#include "tests/support/seed.h"

using namespace exportd::testing;
using namespace std::chrono_literals;

namespace {

// What systemd would receive: every datagram sent to NOTIFY_SOCKET.
class NotifySocket {
 public:
  NotifySocket() : dir_(make_temp_dir("exportd-notify")), path_(dir_ + "/notify.sock") {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~NotifySocket() {
    ::close(fd_);
    std::filesystem::remove_all(dir_);
  }
  const std::string& path() const { return path_; }

  // Waits for a datagram containing `needle` after the ones already matched.
  bool wait_for(const std::string& needle, std::chrono::milliseconds timeout) {
    return eventually(
        [&] {
          drain();
          for (; next_ < messages_.size(); ++next_) {
            if (messages_[next_].find(needle) != std::string::npos) {
              ++next_;
              return true;
            }
          }
          return false;
        },
        timeout);
  }
  const std::vector<std::string>& messages() {
    drain();
    return messages_;
  }

 private:
  void drain() {
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) {
        return;
      }
      messages_.emplace_back(buffer, static_cast<size_t>(n));
    }
  }

  std::string dir_;
  std::string path_;
  int fd_ = -1;
  std::vector<std::string> messages_;
  size_t next_ = 0;
};

size_t count_of(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

// Whether `count` exports reach SENT within ten seconds.
bool sent_eventually(const std::string& url, int count) {
  return eventually(
      [&] {
        return query_value(url, "SELECT count(*) FROM erp_exports WHERE status = 'SENT'") ==
               std::to_string(count);
      },
      10s);
}

}  // namespace

TEST_CASE("service: READY, STATUS, WATCHDOG from progress, RELOADING, STOPPING", "[e2e][service]") {
  const std::string url = PgCluster::shared().fresh_database();
  DaemonHarness harness(url, "");
  NotifySocket notify;
  auto daemon = harness.start({{"NOTIFY_SOCKET", notify.path()}, {"WATCHDOG_USEC", "1000000"}});

  REQUIRE(notify.wait_for("READY=1", 10s));
  const auto& ready = notify.messages().front();
  CHECK_THAT(ready, Catch::Contains("STATUS=0 pending, 0 delivered since start"));
  CHECK(notify.wait_for("WATCHDOG=1", 5s));
  CHECK(notify.wait_for("WATCHDOG=1", 5s));

  daemon.signal(SIGHUP);
  CHECK(notify.wait_for("RELOADING=1", 5s));
  CHECK(notify.wait_for("READY=1", 5s));

  daemon.signal(SIGTERM);
  CHECK(daemon.wait(10s) == 0);
  CHECK(notify.wait_for("STOPPING=1", 1s));
}

TEST_CASE("service: SIGHUP changes the log level; a bad file keeps the running configuration",
          "[e2e][service]") {
  const std::string url = PgCluster::shared().fresh_database();
  DaemonHarness harness(url, "");
  const auto org =
      seed_org(url, "acme", harness.root() + "/acme/exports", harness.root() + "/acme/acks");
  const std::string original = slurp(harness.config_path());
  auto daemon = harness.start();
  seed_exports(url, org, 1, 1);
  REQUIRE(sent_eventually(url, 1));
  REQUIRE(
      eventually([&] { return count_of(slurp(harness.log_path()), "export delivered") == 1; }, 5s));

  // Quieter: info lines stop.
  std::ofstream(harness.config_path()) << original << "level = \"warn\"\n";
  daemon.signal(SIGHUP);
  REQUIRE(eventually(
      [&] { return slurp(harness.log_path()).find("configuration reloaded") != std::string::npos; },
      5s));
  seed_exports(url, org, 1, 1);
  REQUIRE(sent_eventually(url, 2));

  // A bad file: said so, and the daemon goes on as it was.
  std::ofstream(harness.config_path()) << original << "level = \"warn\"\nbogus = 1\n";
  daemon.signal(SIGHUP);
  REQUIRE(eventually(
      [&] {
        return slurp(harness.log_path()).find("configuration reload failed") != std::string::npos;
      },
      5s));
  seed_exports(url, org, 1, 1);
  REQUIRE(sent_eventually(url, 3));

  // A key only a restart can change: a warning naming it.
  std::string restart_only = original;
  restart_only.replace(restart_only.find("workers = 4"), 11, "workers = 2");
  std::ofstream(harness.config_path()) << restart_only << "level = \"warn\"\n";
  daemon.signal(SIGHUP);
  REQUIRE(eventually(
      [&] {
        return slurp(harness.log_path()).find("\"key\":\"export.workers\"") != std::string::npos;
      },
      5s));

  daemon.signal(SIGTERM);
  CHECK(daemon.wait(10s) == 0);
  const auto log = slurp(harness.log_path());
  CHECK(count_of(log, "export delivered") == 1);
  CHECK_THAT(log, Catch::Contains("unknown key 'log.bogus'"));
}

TEST_CASE("service: no WATCHDOG while a worker is stuck, again once it moves", "[e2e][service]") {
  const std::string url = PgCluster::shared().fresh_database();
  DaemonHarness harness(url, "");
  const auto org =
      seed_org(url, "acme", harness.root() + "/acme/exports", harness.root() + "/acme/acks");
  seed_exports(url, org, 1, 1);
  // Recording the delivery must update the draft: holding its row (in a mode
  // that still lets the claim's foreign-key check through) blocks the worker
  // inside the database, the way a hung call would.
  pqxx::connection blocker(url);
  auto lock = std::make_unique<pqxx::work>(blocker);
  lock->exec("SELECT id FROM draft_orders FOR NO KEY UPDATE");

  NotifySocket notify;
  auto daemon = harness.start({{"NOTIFY_SOCKET", notify.path()}, {"WATCHDOG_USEC", "2000000"}});
  REQUIRE(notify.wait_for("READY=1", 10s));
  REQUIRE(
      eventually([&] { return std::filesystem::exists(harness.root() + "/acme/exports"); }, 10s));
  // Over a second and a half after the worker is stuck for more than half the
  // watchdog interval, nothing may be sent.
  std::this_thread::sleep_for(2s);
  const auto before = std::count(notify.messages().begin(), notify.messages().end(), "WATCHDOG=1");
  std::this_thread::sleep_for(1500ms);
  const auto after = std::count(notify.messages().begin(), notify.messages().end(), "WATCHDOG=1");
  CHECK(after == before);

  lock->abort();
  CHECK(notify.wait_for("WATCHDOG=1", 5s));
  CHECK(sent_eventually(url, 1));
  daemon.signal(SIGTERM);
  CHECK(daemon.wait(10s) == 0);
}

TEST_CASE(
    "service: /metrics counts deliveries; /healthz fails while a worker is stuck or the "
    "database is gone",
    "[e2e][service][metrics]") {
  const std::string url = PgCluster::shared().fresh_database();
  const int port = free_port();
  DaemonHarness harness(url, "",
                        "[metrics]\nlisten = \"127.0.0.1:" + std::to_string(port) + "\"\n");
  const auto org =
      seed_org(url, "acme", harness.root() + "/acme/exports", harness.root() + "/acme/acks");
  seed_exports(url, org, 3, 2);
  // The draft of a fourth export held, as in the watchdog test: the worker
  // that takes it blocks in the database.
  const auto stuck = seed_exports(url, org, 1, 1);
  pqxx::connection blocker(url);
  auto lock = std::make_unique<pqxx::work>(blocker);
  lock->exec(
      "SELECT d.id FROM draft_orders d JOIN erp_exports e ON e.draft_order_id = d.id"
      " WHERE e.id = '" +
      stuck[0] + "' FOR NO KEY UPDATE OF d");

  // A 2 s watchdog: stalled means silent for over a second.
  auto daemon = harness.start({{"WATCHDOG_USEC", "2000000"}});
  const auto healthz = [&] { return http_get(port, "/healthz"); };
  // Status and reason from one answer: the state may change between two.
  REQUIRE(eventually(
      [&] {
        const auto answer = healthz();
        return answer.status == 503 && answer.body.starts_with("export workers stalled");
      },
      10s));

  lock->abort();
  REQUIRE(eventually([&] { return healthz().status == 200; }, 10s));
  CHECK(healthz().body == "ok\n");
  REQUIRE(sent_eventually(url, 4));
  const auto metrics = http_get(port, "/metrics");
  CHECK(metrics.status == 200);
  CHECK_THAT(metrics.body,
             Catch::Contains("orderflow_exportd_deliveries_total{outcome=\"sent\"} 4\n"));
  CHECK_THAT(metrics.body,
             Catch::Contains("orderflow_exportd_delivery_duration_seconds_count{outcome=\"sent\"} "
                             "4\n"));
  CHECK_THAT(metrics.body, Catch::Contains("orderflow_exportd_exports{status=\"SENT\"} 4\n"));
  CHECK_THAT(metrics.body, Catch::Contains("orderflow_exportd_exports{status=\"PENDING\"} 0\n"));
  CHECK_THAT(metrics.body, Catch::Contains("orderflow_exportd_connection_circuit_state{"
                                           "connection_id=\"" +
                                           org.connection_id + "\",state=\"closed\"} 1\n"));

  // The database refuses connections: /healthz says so, the metrics too.
  const std::string database = url.substr(url.rfind('/') + 1);
  const std::string admin = PgCluster::shared().url();
  query_value(admin, "ALTER DATABASE " + database + " ALLOW_CONNECTIONS false");
  query_value(admin,
              "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '" +
                  database + "'");
  REQUIRE(eventually([&] { return healthz().status == 503; }, 10s));
  CHECK(healthz().body == "database unreachable\n");
  CHECK_THAT(http_get(port, "/metrics").body, Catch::Contains("orderflow_exportd_database_up 0\n"));
  query_value(admin, "ALTER DATABASE " + database + " ALLOW_CONNECTIONS true");
  CHECK(eventually([&] { return healthz().status == 200; }, 10s));

  daemon.signal(SIGTERM);
  CHECK(daemon.wait(10s) == 0);
  CHECK(http_get(port, "/healthz").status == 0);  // gone with the daemon
}

TEST_CASE("service: a metrics port in use is logged; deliveries go on", "[e2e][service][metrics]") {
  const std::string url = PgCluster::shared().fresh_database();
  exportd::MetricsEndpoint squatter(
      "127.0.0.1:0", [] { return std::string(); }, [] { return std::nullopt; });
  DaemonHarness harness(
      url, "", "[metrics]\nlisten = \"127.0.0.1:" + std::to_string(squatter.port()) + "\"\n");
  const auto org =
      seed_org(url, "acme", harness.root() + "/acme/exports", harness.root() + "/acme/acks");
  seed_exports(url, org, 2, 1);
  auto daemon = harness.start();
  CHECK(sent_eventually(url, 2));
  daemon.signal(SIGTERM);
  CHECK(daemon.wait(10s) == 0);
  const auto log = slurp(harness.log_path());
  CHECK_THAT(log, Catch::Contains("metrics endpoint unavailable; delivering without it"));
  CHECK_THAT(log, Catch::Contains("Address already in use"));
}

TEST_CASE("service: a frozen database: /healthz says so, status gives up, SIGTERM exits",
          "[e2e][service][metrics]") {
  auto& cluster = PgCluster::shared();
  const std::string url = cluster.fresh_database();
  const int port = free_port();
  DaemonHarness harness(url, "",
                        "[metrics]\nlisten = \"127.0.0.1:" + std::to_string(port) + "\"\n");
  const auto org =
      seed_org(url, "acme", harness.root() + "/acme/exports", harness.root() + "/acme/acks");
  seed_exports(url, org, 2, 1);
  auto daemon = harness.start();
  REQUIRE(sent_eventually(url, 2));
  const auto healthz = [&] { return http_get(port, "/healthz"); };
  REQUIRE(eventually([&] { return healthz().status == 200; }, 10s));

  cluster.freeze();
  struct Thaw {
    PgCluster& cluster;
    ~Thaw() { cluster.thaw(); }
  } thaw{cluster};
  // The server accepts connections and never answers.
  REQUIRE(eventually([&] { return healthz().status == 503; }, 5s));
  CHECK(healthz().body == "database unreachable\n");
  CHECK(http_get(port, "/metrics").status == 200);

  Process status({.argv = {EXPORTD_BINARY, "status", "--config", harness.config_path()},
                  .stdout_path = harness.dir() + "/status.out",
                  .stderr_path = harness.dir() + "/status.err"});
  CHECK(status.wait(15s) == 1);
  CHECK_THAT(slurp(harness.dir() + "/status.err"),
             Catch::Contains("cannot connect to the database"));

  daemon.signal(SIGTERM);
  CHECK(daemon.wait(10s) == 0);
  const auto log = slurp(harness.log_path());
  CHECK(count_of(log, "database does not answer") == 1);
}
