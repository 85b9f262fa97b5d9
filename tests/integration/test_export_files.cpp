// An export's marker and checksum files (done_file, checksum_file) in a real
// directory through the worker pool and PostgreSQL, and on a real OpenSSH
// server: exact contents that `sha256sum -c` accepts, the `.done` marker
// last, and a delivery cut off between files completed by the retry.
#include <catch2/catch.hpp>
#include <filesystem>

#include "adapters/filesystem/filesystem_dropzone.h"
#include "adapters/postgres/pg_export_queue.h"
#include "adapters/sftp/sftp_dropzone.h"
#include "adapters/socket_deadlines.h"
#include "app/connection_health.h"
#include "app/export_files.h"
#include "app/export_worker_pool.h"
#include "app/sha256.h"
#include "domain/connection_settings.h"
#include "tests/fakes/fake_metrics.h"
#include "tests/support/failing_writes_dropzone.h"
#include "tests/support/files.h"
#include "tests/support/pg_cluster.h"
#include "tests/support/process.h"
#include "tests/support/seed.h"
#include "tests/support/sshd_server.h"

using namespace exportd;
using namespace exportd::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// `sha256sum -c` run where the ERP would run it: in the export directory.
std::string sha256sum_check(const std::string& dir, const std::string& checksum_file) {
  return run_capture(
      {.argv = {"sh", "-c", "cd '" + dir + "' && sha256sum -c '" + checksum_file + "'"}});
}

void check_export_files(const std::string& dir, const std::string& name) {
  CHECK(names_in(dir) == std::vector<std::string>{name, name + ".done", name + ".sha256"});
  CHECK(slurp(dir + "/" + name + ".done").empty());
  CHECK(slurp(dir + "/" + name + ".sha256") ==
        sha256_hex(slurp(dir + "/" + name)) + "  " + name + "\n");
  CHECK(sha256sum_check(dir, name + ".sha256") == name + ": OK\n");
}

}  // namespace

TEST_CASE("markers: a delivery cut off before its .done marker is not SENT; the retry completes it",
          "[postgres][delivery][markers]") {
  const std::string url = PgCluster::shared().fresh_database();
  const std::string root = make_temp_dir("exportd-markers");
  const std::string dir = root + "/acme/exports";
  const auto org = seed_org(url, "acme", dir, root + "/acme/acks");
  query_value(url,
              "UPDATE erp_connections SET config = config || "
              "'{\"done_file\": true, \"checksum_file\": true}' RETURNING 1");
  seed_exports(url, org, 1, 2);

  FilesystemDropzone local({root});
  FailingWritesDropzone dropzone(local, ".done");
  FakeMetrics metrics;
  ConnectionHealth health(metrics, {});
  ExportWorkerPool pool(
      {.workers = 1,
       .batch_size = 4,
       .poll_interval = 100ms,
       .retry = {.max_attempts = 100, .initial_backoff = 50ms, .max_backoff = 100ms}},
      [url](int i) { return std::make_unique<PgExportQueue>(url, "m-" + std::to_string(i)); },
      [&](int, const ClaimedExport&, const ConnectionSettings&) -> Dropzone& { return dropzone; },
      health, metrics);
  pool.start();
  REQUIRE(eventually([&] { return dropzone.refused >= 2; }, 15s));
  // Cut off before the marker, again and again: still PENDING, the document
  // and its checksum in place, written once, and no marker.
  CHECK(query_value(url, "SELECT status FROM erp_exports") == "PENDING");
  CHECK_THAT(query_value(url, "SELECT error_json->>'error' FROM erp_exports"),
             Catch::Contains("injected failure writing"));
  const std::string name = query_value(url, "SELECT file_name FROM erp_exports");
  CHECK(names_in(dir) == std::vector<std::string>{name, name + ".sha256"});
  CHECK(dropzone.written == 2);

  dropzone.failing = false;
  REQUIRE(eventually([&] { return query_value(url, "SELECT status FROM erp_exports") == "SENT"; },
                     15s));
  pool.stop();
  check_export_files(dir, name);
  CHECK(dropzone.written == 3);  // the marker alone: nothing written twice
  CHECK(query_value(url, "SELECT sha256 FROM erp_exports") == sha256_hex(slurp(dir + "/" + name)));
  fs::remove_all(root);
}

TEST_CASE("markers: a connection without them gets the document alone", "[markers]") {
  const std::string root = make_temp_dir("exportd-markers");
  FilesystemDropzone local({root});
  ConnectionSettings settings;
  settings.export_path = root + "/exports";
  write_export_files(local, settings, "sales_order_x.json", "{}\n", sha256_hex("{}\n"));
  CHECK(names_in(root + "/exports") == std::vector<std::string>{"sales_order_x.json"});
  settings.checksum_file = true;  // without done_file
  write_export_files(local, settings, "sales_order_y.json", "{}\n", sha256_hex("{}\n"));
  CHECK(names_in(root + "/exports") == std::vector<std::string>{"sales_order_x.json",
                                                                "sales_order_y.json",
                                                                "sales_order_y.json.sha256"});
  fs::remove_all(root);
}

TEST_CASE("markers over sftp: exact files, and a write cut off before the checksum completed",
          "[sftp][markers]") {
  SshdServer& server = SshdServer::shared();
  SocketDeadlines deadlines;
  const auto dir = server.user_dir("marker-exports");
  auto settings = server.settings(dir);
  settings.export_path = dir;
  settings.done_file = true;
  settings.checksum_file = true;
  SftpDropzone sftp(settings,
                    {.known_hosts_path = "/nonexistent/known_hosts",
                     .operation_timeout = std::chrono::seconds(5)},
                    deadlines);
  FailingWritesDropzone dropzone(sftp, ".sha256");
  const std::string name = "sales_order_m.json";
  const std::string bytes = "{\"n\":1}\n";
  CHECK_THROWS_WITH(write_export_files(dropzone, settings, name, bytes, sha256_hex(bytes)),
                    Catch::Contains("injected failure writing 'sales_order_m.json.sha256'"));
  CHECK(names_in(dir) == std::vector<std::string>{name});

  dropzone.failing = false;
  const auto result = write_export_files(dropzone, settings, name, bytes, sha256_hex(bytes));
  CHECK(result.already_present);
  CHECK(dropzone.written == 3);
  CHECK(slurp(dir + "/" + name) == bytes);
  check_export_files(dir, name);

  // Everything in place: a third attempt writes nothing.
  write_export_files(dropzone, settings, name, bytes, sha256_hex(bytes));
  CHECK(dropzone.written == 3);
  check_export_files(dir, name);
}
