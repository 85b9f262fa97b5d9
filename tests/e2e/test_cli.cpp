// The command line of the built binary: exit codes and one-sentence errors.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "adapters/filesystem/directory_archive.h"
#include "domain/dated_names.h"
#include "tests/e2e/daemon_harness.h"
#include "tests/support/files.h"
#include "tests/support/pg_cluster.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"
#include "tests/support/seed.h"

using namespace exportd::testing;
namespace fs = std::filesystem;

namespace {

CliResult cli(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  return run_cli(std::move(args), std::move(env));
}

std::string write_config(const std::string& text) {
  const std::string dir = make_temp_dir("exportd-cfg");
  std::ofstream(dir + "/exportd.toml") << text;
  return dir + "/exportd.toml";
}

}  // namespace

TEST_CASE("--version and --help", "[e2e][cli]") {
  const auto version = cli({"--version"});
  CHECK(version.status == 0);
  CHECK_THAT(version.out, Catch::Contains("orderflow-exportd 0.1.0"));
  const auto help = cli({"--help"});
  CHECK(help.status == 0);
  CHECK_THAT(help.out, Catch::Contains("run") && Catch::Contains("migrate"));
  const std::vector<std::vector<std::string>> pages{{"--help"},
                                                    {"run", "--help"},
                                                    {"migrate", "--help"},
                                                    {"check-config", "--help"},
                                                    {"connection", "--help"},
                                                    {"connection", "set", "--help"},
                                                    {"connection", "test", "--help"},
                                                    {"status", "--help"},
                                                    {"approve", "--help"},
                                                    {"push", "--help"},
                                                    {"retry", "--help"},
                                                    {"show", "--help"},
                                                    {"resend", "--help"}};
  for (const auto& page : pages) {
    const auto shown = cli(page);
    INFO(page[0] << (page.size() > 2 ? " " + page[1] : ""));
    CHECK(shown.status == 0);
    CHECK_THAT(shown.out, Catch::Contains("Exit status: 0 success, 1 runtime failure") &&
                              Catch::Contains("2 bad usage or") &&
                              Catch::Contains("3 refused by a state rule"));
  }
}

TEST_CASE("an unknown configuration key exits 2 naming the key", "[e2e][cli]") {
  const auto path =
      write_config("[database]\nurl = \"postgresql://x@/y\"\n[export]\nwrokers = 4\n");
  const auto r = cli({"check-config", "--config", path});
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("unknown key 'export.wrokers'"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);  // one sentence
  const auto run = cli({"run", "--config", path});
  CHECK(run.status == 2);
}

TEST_CASE("a missing configuration file named with --config exits 2", "[e2e][cli]") {
  const auto r = cli({"run", "--config", "/nonexistent/exportd.toml"});
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("cannot read configuration file '/nonexistent/exportd.toml'"));
}

TEST_CASE("bad usage exits 2", "[e2e][cli]") {
  CHECK(cli({"frobnicate"}).status == 2);
  CHECK(cli({}).status == 2);
}

TEST_CASE("check-config masks the database password; the environment overrides the file",
          "[e2e][cli]") {
  const auto path = write_config("[database]\nurl = \"postgresql://u:hunter2@db/orders\"\n");
  const auto r = cli({"check-config", "--config", path});
  CHECK(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("postgresql://u:***@db/orders"));
  CHECK_THAT(r.out, !Catch::Contains("hunter2"));
  const auto env = cli({"check-config", "--config", path},
                       {{"EXPORTD_DATABASE_URL", "postgresql://other@host/db"}});
  CHECK_THAT(env.out, Catch::Contains("postgresql://other@host/db"));
}

TEST_CASE("migrate applies the schema once and is idempotent", "[e2e][cli][postgres]") {
  auto& cluster = PgCluster::shared();
  query_value(cluster.url(), "CREATE DATABASE cli_migrate");
  const auto path = write_config("[database]\nurl = \"" + cluster.url("cli_migrate") + "\"\n");
  const auto first = cli({"migrate", "--config", path});
  CHECK(first.status == 0);
  CHECK_THAT(first.out, Catch::Contains("applied ") && Catch::Contains(" migration(s)"));
  const auto second = cli({"migrate", "--config", path});
  CHECK(second.status == 0);
  CHECK_THAT(second.out, Catch::Contains("up to date"));
}

TEST_CASE("an unreachable database makes migrate exit 1 with one sentence", "[e2e][cli]") {
  const auto path =
      write_config("[database]\nurl = \"postgresql://x@127.0.0.1:1/y?connect_timeout=2\"\n");
  const auto r = cli({"migrate", "--config", path});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::StartsWith("orderflow-exportd: cannot connect to the database"));
}

TEST_CASE("approve, push, retry and status from the command line", "[e2e][cli]") {
  auto& cluster = PgCluster::shared();
  const std::string url = cluster.fresh_database();
  RedisServer redis;
  const auto path =
      write_config("[database]\nurl = \"" + url + "\"\n[redis]\nurl = \"" + redis.url() + "\"\n");
  const auto org = seed_org(url, "acme", "/tmp/exportd-none/exports", "/tmp/exportd-none/acks");
  const auto draft = query_value(url, "INSERT INTO draft_orders (org_id, status) VALUES ('" +
                                          org.org_id + "', 'READY') RETURNING id");
  const std::string actor = "11111111-2222-3333-4444-555555555555";

  CHECK(cli({"push", draft, "--config", path}).status == 3);     // not APPROVED yet
  CHECK(cli({"approve", draft, "--config", path}).status == 2);  // --actor is required
  CHECK(cli({"approve", draft, "--actor", actor, "--config", path}).status == 0);
  const auto first = cli({"push", draft, "--idempotency-key", "k", "--config", path});
  CHECK(first.status == 0);
  const auto again = cli({"push", draft, "--idempotency-key", "k", "--config", path});
  CHECK(again.status == 0);
  CHECK(again.out == first.out);
  CHECK(query_value(url, "SELECT id FROM erp_exports") + "\n" == first.out);
  const auto without_key = cli({"push", draft, "--config", path});
  CHECK(without_key.status == 3);
  CHECK(std::count(without_key.err.begin(), without_key.err.end(), '\n') == 1);
  CHECK(cli({"retry", draft, "--config", path}).status == 3);  // PUSHING, not ERROR

  // Redis down: still works, and still refuses a second push.
  redis.stop();
  const auto fallback = cli({"push", draft, "--idempotency-key", "k", "--config", path});
  CHECK(fallback.status == 3);

  const auto status = cli({"status", "--json", "--config", path});
  CHECK(status.status == 0);
  const auto report = nlohmann::ordered_json::parse(status.out);
  // Every status, empty ones as 0, in the order an export goes through them.
  CHECK(report["exports"].dump() == R"({"PENDING":1,"SENT":0,"ACKED":0,"FAILED":0})");
  const auto text = cli({"status", "--config", path});
  CHECK_THAT(text.out,
             Catch::Contains("PENDING 1") && Catch::Contains("acme: last ack poll never"));
}

TEST_CASE("connection set refuses out-of-range settings with exit 2 naming the key", "[e2e][cli]") {
  const auto path = write_config(
      "[database]\nurl = \"postgresql://x@127.0.0.1:1/y?connect_timeout=1\"\n"
      "[export]\nfilesystem_roots = [\"/srv/drop\"]\n");
  const std::string dir = make_temp_dir("exportd-settings");
  const auto set = [&](const std::string& settings) {
    std::ofstream(dir + "/c.json") << settings;
    return cli({"connection", "set", "acme", dir + "/c.json", "--config", path});
  };
  const std::string sftp =
      R"({"mode":"sftp","host":"h","username":"u","auth":"password","export_path":"/e",)"
      R"("ack_path":"/a")";
  const std::pair<std::string, std::string> rows[] = {
      {sftp + R"(,"port":65558})", "'port'"},
      {sftp + R"(,"host_key_sha256":"hello"})", "'host_key_sha256'"},
      {R"({"mode":"filesystem","export_path":"/srv/drop/../etc","ack_path":"/srv/drop/a"})",
       "'export_path'"},
      {sftp + R"(,"ack_timeout_s":-5})", "'ack_timeout_s'"},
      {sftp + R"(,"on_ack_timeout":"ignore"})", "'on_ack_timeout'"},
      {sftp + R"(,"delivery_schedule":{"cron":"*/15 6-21 * * 1-5","timezone":"Europe/Berlln"}})",
       "'delivery_schedule': 'Europe/Berlln' is not a time zone"},
      {sftp + R"(,"delivery_schedule":{"cron":"*/15 6-21 * * 1-8","timezone":"UTC"}})",
       "'delivery_schedule': the day-of-week field '1-8'"},
      {sftp + R"(,"ack_schedule":{"cron":"0 * * * *","timezone":"UTC"},"ack_poll_interval_s":60})",
       "'ack_schedule' and 'ack_poll_interval_s'"},
      {sftp + R"(,"done_file":"yes"})", "'done_file'"},
      {sftp + R"(,"checksum_file":1})", "'checksum_file'"},
  };
  for (const auto& [settings, naming] : rows) {
    CAPTURE(settings);
    const auto r = set(settings);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::Contains(naming));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}

TEST_CASE("check-config masks a password given as a parameter or keyword; refuses bad bounds",
          "[e2e][cli]") {
  for (const char* url : {"postgresql://u@db/orders?password=hunter2",
                          "postgresql://u@db/orders?sslmode=disable&password=hunter2",
                          "host=db user=u password=hunter2 dbname=orders"}) {
    const auto r = cli({"check-config", "--config",
                        write_config(std::string("[database]\nurl = \"") + url + "\"\n")});
    CHECK(r.status == 0);
    CHECK_THAT(r.out, !Catch::Contains("hunter2"));
  }
  const std::string db = "[database]\nurl = \"postgresql://x@/y\"\n";
  for (const std::string& bad : {std::string("[export]\nfilesystem_roots = []\n"),
                                 std::string("[export]\nfilesystem_roots = [\"/srv/../etc\"]\n"),
                                 std::string("[ack]\nmax_file_bytes = 1073741824\n"),
                                 std::string("[export]\nworkers = 256\n")}) {
    CAPTURE(bad);
    const auto r = cli({"check-config", "--config", write_config(db + bad)});
    CHECK(r.status == 2);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}

TEST_CASE("show --json and resend from the command line, with their exit codes",
          "[e2e][cli][resend]") {
  const std::string url = PgCluster::shared().fresh_database();
  const std::string root = make_temp_dir("exportd-cli-resend");
  const std::string export_dir = root + "/acme/exports";
  fs::create_directory(root + "/archive");
  const std::string db =
      "[database]\nurl = \"" + url + "\"\n[export]\nfilesystem_roots = [\"" + root + "\"]\n";
  const auto path =
      write_config(db + "[archive]\nmode = \"directory\"\ndirectory = \"" + root + "/archive\"\n");
  const auto org = seed_org(url, "acme", export_dir, root + "/acme/acks");
  const auto ids = seed_exports(url, org, 2, 1);
  mark_sent(url, {ids[0]});
  // What the delivery path does: the copy archived, its key and sha256 recorded.
  const std::string bytes = "{\"order\":1}\n";
  const std::string file =
      query_value(url, "SELECT file_name FROM erp_exports WHERE id = '" + ids[0] + "'");
  const std::string key =
      exportd::DirectoryArchive(root + "/archive")
          .put(exportd::archive_object_name("acme", file, std::chrono::system_clock::now()), bytes,
               "");
  query_value(url, "UPDATE erp_exports SET archive_key = '" + key +
                       "', byte_size = 13, sha256 = encode(sha256(convert_to('" + bytes +
                       "', 'UTF8')), 'hex') WHERE id = '" + ids[0] + "' RETURNING 1");

  const auto shown = cli({"show", ids[0], "--json", "--config", path});
  REQUIRE(shown.status == 0);
  const auto json = nlohmann::json::parse(shown.out);
  CHECK(json["export_id"] == ids[0]);
  CHECK(json["org"] == "acme");
  CHECK(json["status"] == "SENT");
  CHECK(json["archive_key"] == key);
  CHECK(json["file_name"] == file);
  CHECK(json["audit"].is_array());
  const auto text = cli({"show", ids[0], "--config", path});
  CHECK(text.status == 0);
  CHECK_THAT(text.out, Catch::Contains("archive key     " + key));

  const std::string actor = "11111111-2222-3333-4444-555555555555";
  const auto resent = cli({"resend", ids[0], "--actor", actor, "--config", path});
  CHECK(resent.status == 0);
  CHECK_THAT(resent.out, Catch::Contains("resent as '" + export_dir + "/" + file + "'"));
  CHECK(slurp(export_dir + "/" + file) == bytes);
  const auto again = cli({"resend", ids[0], "--config", path});
  CHECK(again.status == 0);
  CHECK_THAT(again.out, Catch::Contains("still in the dropzone; nothing was written"));
  CHECK(query_value(url,
                    "SELECT count(*) FROM audit_log WHERE action = 'EXPORT_RESENT'"
                    " AND actor_user_id = '" +
                        actor + "'") == "1");

  const auto one_sentence = [](const CliResult& r) {
    return std::count(r.err.begin(), r.err.end(), '\n') == 1;
  };
  const auto pending = cli({"resend", ids[1], "--config", path});
  CHECK(pending.status == 3);
  CHECK_THAT(pending.err, Catch::Contains("is PENDING; only a SENT or ACKED export is resent"));
  CHECK(one_sentence(pending));
  const auto unknown = cli({"show", "aaaaaaaa-0000-0000-0000-000000000000", "--config", path});
  CHECK(unknown.status == 2);
  CHECK_THAT(unknown.err, Catch::Contains("there is no export"));
  CHECK(one_sentence(unknown));
  CHECK(cli({"show", "12", "--config", path}).status == 2);
  CHECK(cli({"resend", ids[0], "--actor", "me", "--config", path}).status == 2);
  CHECK(cli({"resend", "--config", path}).status == 2);  // EXPORT_ID is required

  fs::remove(export_dir + "/" + file);
  const auto off = cli({"resend", ids[0], "--config", write_config(db)});
  CHECK(off.status == 2);
  CHECK_THAT(off.err, Catch::Contains("[archive] mode"));
  const auto down =
      cli({"resend", ids[0], "--config",
           write_config("[database]\nurl = \"postgresql://x@127.0.0.1:1/y?connect_timeout=2\"\n")});
  CHECK(down.status == 1);
  CHECK(one_sentence(down));
  CHECK_FALSE(fs::exists(export_dir + "/" + file));
  fs::remove_all(root);
}
