// The built daemon with an archive, in S3 (against s3rver) and in a directory:
// every delivered file's exact bytes kept, their location recorded with SENT,
// and `resend` writing a lost file again from its copy.
#include <catch2/catch.hpp>

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "tests/e2e/daemon_harness.h"
#include "tests/support/pg_cluster.h"
#include "tests/support/process.h"
#include "tests/support/s3_server.h"
#include "tests/support/seed.h"

using namespace exportd::testing;
using namespace std::chrono_literals;

namespace {

std::string s3_archive_section(const S3Server& s3, const std::string& secret_key_file) {
  return std::string("[archive]\nmode = \"s3\"\nendpoint = \"")
      .append(s3.endpoint())
      .append("\"\nbucket = \"")
      .append(s3.bucket())
      .append("\"\nregion = \"eu-central-1\"\nprefix = \"exports/\"\naccess_key_id = \"")
      .append(S3Server::kAccessKeyId)
      .append("\"\nsecret_key_file = \"")
      .append(secret_key_file)
      .append("\"\n");
}

}  // namespace

TEST_CASE("the daemon archives every delivered file's exact bytes in S3 and records where",
          "[e2e][archive]") {
  S3Server s3;
  const std::string url = PgCluster::shared().fresh_database();
  // The secret comes from systemd's credential directory: the configured
  // file does not exist.
  DaemonHarness harness(url, "poll_interval_s = 1\n",
                        s3_archive_section(s3, "/nonexistent/s3.secret"));
  const std::string credentials = harness.dir() + "/credentials";
  std::filesystem::create_directories(credentials);
  std::ofstream(credentials + "/s3.secret") << S3Server::kSecretKey << "\n";
  const auto org =
      seed_org(url, "acme", harness.root() + "/acme/exports", harness.root() + "/acme/acks");
  seed_exports(url, org, 3, 1);

  Process daemon = harness.start({{"CREDENTIALS_DIRECTORY", credentials}});
  REQUIRE(eventually(
      [&] {
        return query_value(url, "SELECT count(*) FROM erp_exports WHERE status = 'SENT'") == "3";
      },
      30s));
  daemon.signal(SIGTERM);
  CHECK(daemon.wait(10s) == 0);

  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  for (const auto& row : tx.exec(
           "SELECT file_name, sha256, archive_key,"
           "       to_char(sent_at AT TIME ZONE 'UTC', 'YYYY/MM/DD') AS day FROM erp_exports")) {
    const auto file_name = row["file_name"].as<std::string>();
    const auto archive_key = row["archive_key"].as<std::string>();
    CHECK(archive_key == std::string("exports/acme/")
                             .append(row["day"].as<std::string>())
                             .append("/")
                             .append(file_name));
    const std::string delivered = slurp(harness.root() + "/acme/exports/" + file_name);
    REQUIRE_FALSE(delivered.empty());
    CHECK(slurp(s3.object_file(archive_key)) == delivered);
    const auto metadata = nlohmann::json::parse(slurp(s3.metadata_file(archive_key)));
    CHECK(metadata.at("x-amz-meta-sha256") == row["sha256"].as<std::string>());
  }
}

TEST_CASE("an S3 archive whose secret key file cannot be read stops the daemon with exit 2",
          "[e2e][archive]") {
  S3Server s3;
  const std::string url = PgCluster::shared().fresh_database();
  DaemonHarness harness(url, "", s3_archive_section(s3, "/nonexistent/s3.secret"));
  Process daemon = harness.start();
  CHECK(daemon.wait(20s) == 2);
  CHECK_THAT(slurp(harness.log_path()), Catch::Contains("'archive.secret_key_file'") &&
                                            Catch::Contains("/nonexistent/s3.secret"));
}

TEST_CASE("the daemon keeps each delivered file in the archive directory; resend writes it again",
          "[e2e][archive][resend]") {
  const std::string url = PgCluster::shared().fresh_database();
  const std::string archive_dir = make_temp_dir("exportd-archive");
  DaemonHarness harness(url, "poll_interval_s = 1\n",
                        "[archive]\nmode = \"directory\"\ndirectory = \"" + archive_dir + "\"\n");
  const auto org =
      seed_org(url, "acme", harness.root() + "/acme/exports", harness.root() + "/acme/acks");
  seed_exports(url, org, 2, 3);
  {
    Process daemon = harness.start();
    REQUIRE(eventually(
        [&] {
          return query_value(url, "SELECT count(*) FROM erp_exports WHERE status = 'SENT'") == "2";
        },
        30s));
    daemon.signal(SIGTERM);
    CHECK(daemon.wait(10s) == 0);
  }

  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  const auto row = tx.exec1(
      "SELECT id, file_name, archive_key, to_char(sent_at AT TIME ZONE 'UTC', 'YYYY/MM/DD')"
      " FROM erp_exports ORDER BY id LIMIT 1");
  const auto export_id = row[0].as<std::string>();
  const auto file_name = row[1].as<std::string>();
  CHECK(row[2].as<std::string>() ==
        std::string("acme/").append(row[3].as<std::string>()).append("/").append(file_name));
  const std::string delivered_path = harness.root() + "/acme/exports/" + file_name;
  const std::string delivered = slurp(delivered_path);
  REQUIRE_FALSE(delivered.empty());
  const std::string copy = archive_dir + "/" + row[2].as<std::string>();
  CHECK(slurp(copy) == delivered);
  CHECK((std::filesystem::status(copy).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::group_read));

  // The ERP lost the file: resend puts the same bytes back, once.
  std::filesystem::remove(delivered_path);
  const std::string actor = "11111111-2222-3333-4444-555555555555";
  const auto resent =
      run_cli({"resend", export_id, "--actor", actor, "--config", harness.config_path()});
  CHECK(resent.status == 0);
  CHECK(slurp(delivered_path) == delivered);
  const auto again =
      run_cli({"resend", export_id, "--actor", actor, "--config", harness.config_path()});
  CHECK(again.status == 0);
  CHECK_THAT(again.out, Catch::Contains("still in the dropzone"));
  CHECK(query_value(url,
                    "SELECT count(*) FROM audit_log WHERE action = 'EXPORT_RESENT'"
                    " AND actor_user_id = '" +
                        actor + "' AND entity_id = '" + export_id + "'") == "1");
  CHECK(query_value(url, "SELECT status FROM erp_exports WHERE id = '" + export_id + "'") ==
        "SENT");
}
