// The built daemon delivering to a real OpenSSH server: connection set and
// test, many exports over cached sessions, refused host keys, sessions killed
// and a frozen server mid-run, permission denied.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/e2e/daemon_harness.h"
#include "tests/support/pg_cluster.h"
#include "tests/support/process.h"
#include "tests/support/seed.h"
#include "tests/support/sshd_server.h"

using namespace exportd::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

SshdServer& server() {
  return SshdServer::shared();
}

std::string sftp_settings(const std::string& auth, const std::string& host_key,
                          const std::string& export_dir) {
  std::string json = R"({"mode":"sftp","host":"127.0.0.1","port":)" +
                     std::to_string(server().port()) + R"(,"username":")" + server().user() +
                     R"(","auth":")" + auth + R"(","host_key_sha256":")" + host_key +
                     R"(","export_path":")" + export_dir + R"(","ack_path":")" + export_dir +
                     R"(/acks","connect_timeout_s":5)";
  if (auth == "publickey") {
    json += R"(,"private_key_path":")" + server().ed25519_key() + R"(")";
  }
  return json + "}";
}

struct SftpSetup {
  explicit SftpSetup(int operation_timeout_s = 10)
      : key_dir(make_temp_dir("exportd-key")),
        daemon(url, "batch_size = 8\nretry_backoff_s = 1\nretry_backoff_max_s = 2\n",
               "[sftp]\noperation_timeout_s = " + std::to_string(operation_timeout_s) +
                   "\nknown_hosts = \"" + key_dir + "/known_hosts\"\n[secrets]\nkey_file = \"" +
                   key_dir + "/secret.key\"\n") {
    std::ofstream(key_dir + "/secret.key")
        << "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";
    fs::create_directories(daemon.root());
  }
  ~SftpSetup() { fs::remove_all(key_dir); }

  // Seeds an org and stores its connection through `connection set`.
  SeededOrg org(const std::string& slug, const std::string& settings_json,
                const std::string& password = "") {
    SeededOrg seeded = seed_org(url, slug, daemon.root() + "/unused", daemon.root() + "/unused");
    const std::string file = key_dir + "/" + slug + ".json";
    std::ofstream(file) << settings_json;
    std::vector<std::string> args{"connection", "set",      slug,
                                  file,         "--config", daemon.config_path()};
    if (!password.empty()) {
      args.emplace_back("--password-stdin");
    }
    const auto r = run_cli(args, {}, password.empty() ? "" : password + "\n");
    INFO(r.err);
    REQUIRE(r.status == 0);
    return seeded;
  }

  std::string count(const std::string& org_id, const std::string& status) const {
    return query_value(url, "SELECT count(*) FROM erp_exports WHERE org_id = '" + org_id +
                                "' AND status = '" + status + "'");
  }
  bool all_sent(const std::string& org_id, int n) const {
    return count(org_id, "SENT") == std::to_string(n);
  }

  std::string url = PgCluster::shared().fresh_database();
  std::string key_dir;
  DaemonHarness daemon;
};

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file()) {
      names.push_back(e.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> file_names(const std::string& url, const std::string& org_id) {
  std::vector<std::string> names;
  const auto joined = query_value(
      url,
      "SELECT string_agg(file_name, ',' ORDER BY file_name) FROM erp_exports WHERE org_id = '" +
          org_id + "'");
  std::istringstream parts(joined);
  std::string name;
  while (std::getline(parts, name, ',')) {
    names.push_back(name);
  }
  return names;
}

int established_sessions() {
  return std::stoi(run_capture({.argv = {"sh", "-c",
                                         "ss -tnH state established '( dport = :" +
                                             std::to_string(server().port()) + " )' | wc -l"}}));
}

}  // namespace

TEST_CASE("sftp e2e: a password stored with connection set, exports over cached sessions",
          "[e2e][sftp]") {
  SftpSetup s;
  const auto export_dir = server().user_dir("exports");
  const auto org = s.org("acme", sftp_settings("password", server().host_key_sha256(), export_dir),
                         server().password());

  // The password is sealed: not in config, not in the secret's bytes.
  CHECK(query_value(s.url, "SELECT position(convert_to('" + server().password() +
                               "', 'UTF8') in secret) FROM erp_connections WHERE org_id = '" +
                               org.org_id + "'") == "0");
  CHECK(query_value(s.url, "SELECT config::text LIKE '%" + server().password() +
                               "%' FROM erp_connections WHERE org_id = '" + org.org_id + "'") ==
        "f");

  fs::create_directories(export_dir + "/acks");
  run_capture({.argv = {"chown", server().user(), export_dir + "/acks"}});
  const auto probe = run_cli({"connection", "test", "acme", "--config", s.daemon.config_path()});
  INFO(probe.err);
  CHECK(probe.status == 0);
  CHECK_THAT(probe.out, Catch::Contains("passed"));
  CHECK(query_value(s.url,
                    "SELECT last_test_success AND last_test_at IS NOT NULL"
                    " FROM erp_connections WHERE org_id = '" +
                        org.org_id + "'") == "t");

  constexpr int kExports = 200;
  seed_exports(s.url, org, kExports, 10);
  auto daemon = s.daemon.start();
  REQUIRE(eventually([&] { return s.all_sent(org.org_id, kExports); }, 60s));
  // One cached session per worker (4) and ack poller thread (2) at most,
  // not one per export.
  CHECK(established_sessions() <= 6);
  daemon.signal(SIGTERM);
  CHECK(daemon.wait(10s) == 0);

  auto delivered = files_in(export_dir);
  CHECK(delivered == file_names(s.url, org.org_id));
  CHECK(delivered.size() == kExports);
  const auto log = slurp(s.daemon.log_path());
  CHECK_THAT(log, !Catch::Contains(server().password()));
  CHECK_THAT(probe.out + probe.err, !Catch::Contains(server().password()));
}

TEST_CASE("sftp e2e: a wrong pinned host key is refused, naming the key seen", "[e2e][sftp]") {
  SftpSetup s;
  const std::string pinned = "SHA256:u0ZL9Ok4TTpPYJm4tDZdE0A+o3cAWKDo3N4lEPKp1dI";
  const auto org = s.org("acme", sftp_settings("publickey", pinned, server().user_dir("pinned")));
  seed_exports(s.url, org, 3, 1);
  auto daemon = s.daemon.start();
  REQUIRE(eventually([&] { return s.count(org.org_id, "FAILED") == "3"; }, 30s));
  daemon.signal(SIGTERM);
  CHECK(daemon.wait(10s) == 0);
  CHECK_THAT(slurp(s.daemon.log_path()), Catch::Contains(server().host_key_sha256()));
  CHECK_THAT(query_value(s.url, "SELECT error_json->>'error' FROM erp_exports WHERE org_id = '" +
                                    org.org_id + "' LIMIT 1"),
             Catch::Contains("refused") && Catch::Contains(server().host_key_sha256()) &&
                 Catch::Contains(pinned));
  CHECK(query_value(s.url, "SELECT count(*) FROM draft_orders WHERE status = 'ERROR'") == "3");
}

TEST_CASE("sftp e2e: sessions killed by the server mid-run, deliveries resume", "[e2e][sftp]") {
  SftpSetup s;
  const auto export_dir = server().user_dir("killed");
  const auto org =
      s.org("acme", sftp_settings("publickey", server().host_key_sha256(), export_dir));
  constexpr int kExports = 300;
  seed_exports(s.url, org, kExports, 10);
  auto daemon = s.daemon.start();
  for (int kill = 1; kill <= 3; ++kill) {
    REQUIRE(eventually([&] { return std::stoi(s.count(org.org_id, "SENT")) >= kill * 40; }, 60s));
    server().kill_sessions();
  }
  REQUIRE(eventually([&] { return s.all_sent(org.org_id, kExports); }, 90s));
  daemon.signal(SIGTERM);
  CHECK(daemon.wait(10s) == 0);
  const auto delivered = files_in(export_dir);
  CHECK(delivered == file_names(s.url, org.org_id));
  CHECK(delivered.size() == kExports);
}

TEST_CASE("sftp e2e: a frozen server times out; other orgs go on; SIGTERM stays prompt",
          "[e2e][sftp]") {
  SftpSetup s(2);
  const auto frozen_org = s.org(
      "frozen", sftp_settings("publickey", server().host_key_sha256(), server().user_dir("ice")));
  const std::string local = s.daemon.root() + "/local";
  const auto local_org = seed_org(s.url, "local", local + "/exports", local + "/acks");

  auto daemon = s.daemon.start();
  seed_exports(s.url, frozen_org, 1, 1);
  REQUIRE(eventually([&] { return s.all_sent(frozen_org.org_id, 1); }, 30s));

  server().freeze();
  seed_exports(s.url, frozen_org, 20, 1);
  seed_exports(s.url, local_org, 20, 1);
  CHECK(eventually([&] { return s.all_sent(local_org.org_id, 20); }, 20s));
  CHECK(eventually(
      [&] { return slurp(s.daemon.log_path()).find("no answer") != std::string::npos; }, 20s));

  const auto stopping = std::chrono::steady_clock::now();
  daemon.signal(SIGTERM);
  CHECK(daemon.wait(10s) == 0);
  CHECK(std::chrono::steady_clock::now() - stopping < 5s);
  server().thaw();
  // Nothing was lost: the frozen org's exports wait for a later run.
  CHECK(s.count(frozen_org.org_id, "PENDING") == "20");
  CHECK(s.count(frozen_org.org_id, "FAILED") == "0");
}

TEST_CASE("sftp e2e: permission denied pauses the connection; the exports wait for the fix",
          "[e2e][sftp]") {
  SftpSetup s;
  const std::string locked = server().data_dir() + "/locked";
  fs::create_directories(locked);  // root's, not writable by the SFTP user
  const auto org = s.org("acme", sftp_settings("publickey", server().host_key_sha256(), locked));
  seed_exports(s.url, org, 2, 1);
  auto daemon = s.daemon.start();
  REQUIRE(eventually(
      [&] {
        const auto log = slurp(s.daemon.log_path());
        return log.find("connection paused until the dropzone is fixed") != std::string::npos &&
               log.find("permission denied") != std::string::npos;
      },
      30s));
  CHECK(s.count(org.org_id, "PENDING") == "2");
  CHECK(s.count(org.org_id, "FAILED") == "0");
  CHECK(query_value(s.url, "SELECT count(*) FROM draft_orders WHERE status = 'ERROR'") == "0");
  // `status`, another process, shows the daemon's breaker.
  const auto circuit_state = [&] {
    const auto r = run_cli({"status", "--json", "--config", s.daemon.config_path()});
    const auto circuit = nlohmann::json::parse(r.out)["connections"][0]["circuit"];
    return circuit.is_null() ? std::string("none") : circuit["state"].get<std::string>();
  };
  CHECK(eventually([&] { return circuit_state() == "open"; }, 10s));

  // The operator fixes the permissions: delivered after the pause, no attempt spent on it.
  run_capture({.argv = {"chown", server().user(), locked}});
  REQUIRE(eventually([&] { return s.all_sent(org.org_id, 2); }, 30s));
  CHECK(eventually([&] { return circuit_state() == "closed"; }, 10s));
  daemon.signal(SIGTERM);
  CHECK(daemon.wait(10s) == 0);
  CHECK(query_value(s.url, "SELECT max(attempts) FROM erp_exports WHERE org_id = '" + org.org_id +
                               "'") == "1");
  CHECK(files_in(locked).size() == 2);
  fs::remove_all(locked);
}
