// The daemon's TOML configuration: the spec's example, defaults, errors.
#include <catch2/catch.hpp>

#include "app/daemon_config.h"
#include "app/service_status.h"
#include "domain/failure.h"

using namespace exportd;

namespace {

const char* kSpecExample = R"(
[database]
url = "postgresql://orderflow_exportd@/orderflow?host=/run/postgresql"
[redis]
url = "redis://127.0.0.1:6379/0"
idempotency_ttl_s = 86400
[export]
workers = 6
batch_size = 16
poll_interval_s = 7
lease_s = 45
max_attempts = 9
retry_backoff_s = 3
retry_backoff_max_s = 600
filesystem_roots = ["/var/lib/orderflow/dropzone", "/srv/drop"]
[ack]
poll_interval_s = 30
max_file_bytes = 2048
[sftp]
known_hosts = "/etc/orderflow-exportd/known_hosts"
operation_timeout_s = 20
[secrets]
key_file = "/etc/orderflow-exportd/secret.key"
[log]
level = "debug"
format = "text"
[metrics]
listen = ""
)";

std::string error_of(const std::string& toml, const EnvironmentOverrides& env = {}) {
  try {
    parse_daemon_config(toml, "exportd.toml", env);
  } catch (const Failure& e) {
    CHECK(e.kind() == FailureKind::bad_config);
    return e.what();
  }
  FAIL("configuration accepted: " << toml);
  return "";
}

}  // namespace

TEST_CASE("the spec's example configuration parses completely", "[config]") {
  const auto c = parse_daemon_config(kSpecExample, "exportd.toml", {});
  CHECK(c.database_url == "postgresql://orderflow_exportd@/orderflow?host=/run/postgresql");
  CHECK(c.export_workers == 6);
  CHECK(c.export_batch_size == 16);
  CHECK(c.export_poll_interval_s == 7);
  CHECK(c.export_lease_s == 45);
  CHECK(c.export_max_attempts == 9);
  CHECK(c.export_retry_backoff_s == 3);
  CHECK(c.export_retry_backoff_max_s == 600);
  CHECK(c.filesystem_roots == std::vector<std::string>{"/var/lib/orderflow/dropzone", "/srv/drop"});
  CHECK(c.ack_poll_interval_s == 30);
  CHECK(c.ack_max_file_bytes == 2048);
  CHECK(c.sftp_operation_timeout_s == 20);
  CHECK(c.log_level == Level::debug);
  CHECK(c.log_format == LogFormat::text);
  CHECK(c.metrics_listen.empty());
}

TEST_CASE("every key but the database URL has a default", "[config]") {
  const auto c = parse_daemon_config("[database]\nurl = \"postgresql://x@/y\"\n", "f", {});
  CHECK(c.export_workers == 4);
  CHECK(c.export_batch_size == 32);
  CHECK(c.export_lease_s == 30);
  CHECK(c.export_max_attempts == 8);
  CHECK(c.ack_poll_interval_s == 60);
  CHECK(c.log_format == LogFormat::json);
  CHECK(error_of("") ==
        "no database URL: set 'database.url' in 'exportd.toml' or "
        "EXPORTD_DATABASE_URL");
}

TEST_CASE("typos, wrong types and bad values are errors naming the key", "[config]") {
  const std::string db = "[database]\nurl = \"postgresql://x@/y\"\n";
  CHECK(error_of(db + "[export]\nwrokers = 4\n") ==
        "unknown key 'export.wrokers' in 'exportd.toml'");
  CHECK_THAT(error_of(db + "[exprt]\nworkers = 4\n"), Catch::Contains("unknown section [exprt]"));
  CHECK_THAT(error_of(db + "[export]\nworkers = \"4\"\n"),
             Catch::Contains("'export.workers' must be an integer"));
  CHECK_THAT(error_of(db + "[export]\nworkers = 0\n"),
             Catch::Contains("'export.workers' must be between"));
  CHECK_THAT(error_of(db + "[log]\nlevel = \"loud\"\n"), Catch::Contains("'log.level'"));
  CHECK_THAT(error_of(db + "[export]\nfilesystem_roots = [\"relative\"]\n"),
             Catch::Contains("not an absolute path"));
  CHECK_THAT(error_of(db + "[export\n"), Catch::Contains("cannot parse 'exportd.toml' at line"));
}

TEST_CASE("the metrics address is a numeric ADDRESS:PORT, or empty for none", "[config]") {
  const std::string db = "[database]\nurl = \"postgresql://x@/y\"\n";
  for (const char* good : {"127.0.0.1:9464", "0.0.0.0:1", "[::1]:9464", "[::]:65535", ""}) {
    CAPTURE(good);
    CHECK(parse_daemon_config(db + "[metrics]\nlisten = \"" + good + "\"\n", "f", {})
              .metrics_listen == good);
  }
  for (const char* bad :
       {"localhost:9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
        "127.0.0.1:94a4", "::1:9464", "[::1]", ":9464", "127.0.0.1:999999999999"}) {
    CAPTURE(bad);
    CHECK_THAT(error_of(db + "[metrics]\nlisten = \"" + bad + "\"\n"),
               Catch::Contains("'metrics.listen' must be ADDRESS:PORT") &&
                   Catch::Contains(std::string("got '") + bad + "'"));
  }
}

TEST_CASE("the environment overrides the file", "[config]") {
  EnvironmentOverrides env;
  env.database_url = "postgresql://env@/db";
  env.redis_url = "redis://env:6379/1";
  const auto c = parse_daemon_config("[database]\nurl = \"postgresql://file@/db\"\n", "f", env);
  CHECK(c.database_url == "postgresql://env@/db");
  CHECK(c.redis_url == "redis://env:6379/1");
  CHECK(parse_daemon_config("", "f", env).database_url == "postgresql://env@/db");
}

TEST_CASE("the printed configuration masks passwords", "[config]") {
  CHECK(mask_url_password("postgresql://u:secret@db/x") == "postgresql://u:***@db/x");
  CHECK(mask_url_password("postgresql://u@db/x") == "postgresql://u@db/x");
  CHECK(mask_url_password("redis://:pw@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0");
  auto c = parse_daemon_config("[database]\nurl = \"postgresql://u:hunter2@db/x\"\n", "f", {});
  const auto text = describe_config(c).dump();
  CHECK(text.find("hunter2") == std::string::npos);
  CHECK(describe_config(c)["export"]["workers"] == 4);
}

TEST_CASE("a reload names the keys only a restart applies", "[config]") {
  const auto running = parse_daemon_config("[database]\nurl = \"postgresql://a@/b\"\n", "a", {});
  const auto next = parse_daemon_config(
      "[database]\nurl = \"postgresql://a@/c\"\n[export]\nworkers = 2\npoll_interval_s = 9\n"
      "max_attempts = 3\n[ack]\npoll_interval_s = 5\n[log]\nlevel = \"warn\"\nformat = \"text\"\n",
      "b", {});
  CHECK(keys_needing_restart(running, next) ==
        std::vector<std::string>{"database.url", "export.workers"});
  CHECK(keys_needing_restart(running, running).empty());
}

TEST_CASE("the service status line", "[config]") {
  const auto now = std::chrono::system_clock::now();
  CHECK(service_status_line(3, 120, now - std::chrono::seconds(4), now) ==
        "3 pending, 120 delivered since start, last delivery 4 s ago");
  CHECK(service_status_line(std::nullopt, 0, std::nullopt, now) ==
        "database unreachable, 0 delivered since start, no delivery yet");
}
