// The built daemon with [archive] mode = "s3" against s3rver: every delivered
// file's exact bytes in the store, their location recorded with SENT.
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
