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
timeout_s = 3600
[sftp]
known_hosts = "/etc/orderflow-exportd/known_hosts"
operation_timeout_s = 20
[secrets]
key_file = "/etc/orderflow-exportd/secret.key"
[log]
level = "debug"
format = "text"
[archive]
mode = "s3"
endpoint = "https://s3.eu-central-1.amazonaws.com"
bucket = "orderflow-exports"
region = "eu-central-1"
prefix = "exports/"
access_key_id = "AKIAEXAMPLE"
secret_key_file = "/etc/orderflow-exportd/s3.secret"
[retention]
ack_files_days = 7
archive_days = 90
finished_exports_days = 30
audit_days = 400
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
  CHECK(c.ack_timeout_s == 3600);
  CHECK(c.archive == ArchiveConfig{.mode = ArchiveMode::s3,
                                   .directory = "/var/lib/orderflow/archive",
                                   .endpoint = "https://s3.eu-central-1.amazonaws.com",
                                   .bucket = "orderflow-exports",
                                   .region = "eu-central-1",
                                   .prefix = "exports/",
                                   .access_key_id = "AKIAEXAMPLE",
                                   .secret_key_file = "/etc/orderflow-exportd/s3.secret"});
  CHECK(c.retention == RetentionConfig{.ack_files_days = 7,
                                       .archive_days = 90,
                                       .finished_exports_days = 30,
                                       .audit_days = 400});
}

TEST_CASE("every key but the database URL has a default", "[config]") {
  const auto c = parse_daemon_config("[database]\nurl = \"postgresql://x@/y\"\n", "f", {});
  CHECK(c.export_workers == 4);
  CHECK(c.export_batch_size == 32);
  CHECK(c.export_lease_s == 30);
  CHECK(c.export_max_attempts == 8);
  CHECK(c.ack_poll_interval_s == 60);
  CHECK(c.log_format == LogFormat::json);
  CHECK(c.ack_timeout_s == 86400);
  CHECK(c.archive.mode == ArchiveMode::off);
  CHECK(c.retention == RetentionConfig{.ack_files_days = 30,
                                       .archive_days = 365,
                                       .finished_exports_days = 0,
                                       .audit_days = 0});
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

TEST_CASE("passwords are masked in every form of the database URL", "[config]") {
  const std::pair<const char*, const char*> rows[] = {
      {"postgresql://u:pw@db/x?sslmode=require", "postgresql://u:***@db/x?sslmode=require"},
      {"postgresql://u:p@ss@db/x", "postgresql://u:***@db/x"},
      {"postgresql://u@db/x?password=pw", "postgresql://u@db/x?password=***"},
      {"postgresql://u@db/x?sslmode=require&password=pw&application_name=a",
       "postgresql://u@db/x?sslmode=require&password=***&application_name=a"},
      {"postgres:///x?host=/run/postgresql&password=pw",
       "postgres:///x?host=/run/postgresql&password=***"},
      {"host=db password=pw dbname=x", "host=db password=*** dbname=x"},
      {"host=db password = 'p w\\' x' dbname=x", "host=db password = *** dbname=x"},
      {"password=pw", "password=***"},
      {"host=db dbname=x", "host=db dbname=x"},
      {"host=db passwordless=1", "host=db passwordless=1"},
  };
  for (const auto& [url, masked] : rows) {
    CAPTURE(url);
    CHECK(mask_url_password(url) == masked);
  }
  for (const char* url : {"postgresql://u@db/x?password=hunter2", "host=db password=hunter2"}) {
    const auto c = parse_daemon_config(std::string("[database]\nurl = \"") + url + "\"\n", "f", {});
    CHECK(describe_config(c).dump().find("hunter2") == std::string::npos);
  }
}

TEST_CASE("values run would refuse are refused at load, naming the key", "[config]") {
  const std::string db = "[database]\nurl = \"postgresql://x@/y\"\n";
  const std::pair<std::string, std::string> rows[] = {
      {"[export]\nfilesystem_roots = []\n", "'export.filesystem_roots'"},
      {"[export]\nfilesystem_roots = [\"/srv/drop/../etc\"]\n", "'export.filesystem_roots'"},
      {"[export]\nfilesystem_roots = [\"srv\"]\n", "'export.filesystem_roots'"},
      {"[export]\nfilesystem_roots = [\"\"]\n", "'export.filesystem_roots'"},
      {"[ack]\nmax_file_bytes = 16777217\n", "'ack.max_file_bytes' must be between 1 and 16777216"},
      {"[ack]\nmax_file_bytes = 1073741824\n", "'ack.max_file_bytes'"},
      {"[export]\nworkers = 65\n", "'export.workers' must be between 1 and 64"},
      {"[ack]\ntimeout_s = -1\n", "'ack.timeout_s' must be between 0 and"},
      {"[retention]\naudit_days = 364\n",
       "'retention.audit_days' must be 0 (keep forever) or at least 365, got 364"},
      {"[retention]\nack_files_days = -1\n", "'retention.ack_files_days' must be between 0"},
      {"[archive]\nmode = \"tape\"\n", "'archive.mode' must be 'off', 'directory' or 's3'"},
      {"[archive]\nmode = \"directory\"\ndirectory = \"archive\"\n",
       "'archive.directory' must be an absolute path"},
      {"[archive]\nmode = \"s3\"\nendpoint = \"http://127.0.0.1:9000\"\nregion = \"r\"\n"
       "access_key_id = \"k\"\n",
       "'archive.bucket' must be set when 'archive.mode' is 's3'"},
      {"[archive]\nmode = \"s3\"\nendpoint = \"127.0.0.1:9000\"\nbucket = \"b\"\n"
       "region = \"r\"\naccess_key_id = \"k\"\n",
       "'archive.endpoint' must start with https:// or http://"},
      {"[archive]\nsecret_key = \"inline\"\n", "unknown key 'archive.secret_key'"},
  };
  for (const auto& [text, naming] : rows) {
    CAPTURE(text);
    CHECK_THAT(error_of(db + text), Catch::Contains(naming));
  }
  const auto ok =
      parse_daemon_config(db + "[export]\nworkers = 64\nfilesystem_roots = [\"/srv/./drop/\"]\n"
                               "[ack]\nmax_file_bytes = 16777216\n",
                          "f", {});
  CHECK(ok.export_workers == 64);
  CHECK(ok.ack_max_file_bytes == 16777216);
}

TEST_CASE("workers the database cannot serve are refused, naming the key", "[config]") {
  const auto c = parse_daemon_config("[database]\nurl = \"postgresql://x@/y\"\n", "f", {});
  CHECK_NOTHROW(check_database_capacity(c, 7, 7));
  try {
    check_database_capacity(c, 8, 7);
    FAIL("accepted");
  } catch (const Failure& e) {
    CHECK(e.kind() == FailureKind::bad_config);
    CHECK_THAT(e.what(), Catch::StartsWith("'export.workers' = 4 needs 8 database connections") &&
                             Catch::Contains("has 7 free") &&
                             Catch::Contains("lower [export] workers"));
  }
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
  const auto note = failing_endpoints_note({"sftp://b:22", "sftp://a:2222", "sftp://b:22"}, 4);
  CHECK(note ==
        "3 of 4 workers in calls to failing or unreached servers: sftp://a:2222 (1), sftp://b:22 "
        "(2)");
  CHECK(service_status_line(3, 120, now - std::chrono::seconds(4), now, note) ==
        "3 pending, 120 delivered since start, last delivery 4 s ago, " + note);
  CHECK(failing_endpoints_note({}, 4).empty());
}
