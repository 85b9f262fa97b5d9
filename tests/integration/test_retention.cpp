// Retention against a real PostgreSQL with rows dated in the past, and over
// real dropzones (a local directory and an OpenSSH server): what goes, what
// never goes, batches, and one pruner at a time.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "adapters/filesystem/filesystem_dropzone.h"
#include "adapters/postgres/pg_retention_store.h"
#include "adapters/sftp/sftp_dropzone.h"
#include "adapters/socket_deadlines.h"
#include "app/retention.h"
#include "domain/dated_names.h"
#include "tests/support/files.h"
#include "tests/support/pg_cluster.h"
#include "tests/support/process.h"
#include "tests/support/seed.h"
#include "tests/support/sshd_server.h"

using namespace exportd;
using namespace exportd::testing;
namespace fs = std::filesystem;

namespace {

// Remembers what it was asked to remove.
class RecordingArchive final : public Archive {
 public:
  std::string put(const std::string& name, std::string_view, const std::string&) override {
    return name;
  }
  std::optional<std::string> get(const std::string&) override { return std::nullopt; }
  void remove(const std::string& location) override { removed.push_back(location); }
  std::vector<std::string> removed;
};

struct PruneRig {
  std::string url = PgCluster::shared().fresh_database();
  std::string ack_dir = make_temp_dir("exportd-prune");
  SeededOrg org = seed_org(url, "acme", ack_dir + "/exports", ack_dir);
  FilesystemDropzone filesystem{{"/"}};
  SocketDeadlines deadlines;
  DropzoneCache dropzones{filesystem,
                          [this](const ConnectionSettings& s) {
                            return std::make_unique<SftpDropzone>(s, SftpOptions{}, deadlines);
                          },
                          [](const std::string& s) { return s; }, 1};
  PgRetentionStore store{url};
  RecordingArchive archive;
  Retention retention{store, dropzones, &archive, RetentionOptions{.batch_size = 2}};

  ~PruneRig() {
    std::error_code ec;
    fs::remove_all(ack_dir, ec);
  }
  std::string sql(const std::string& text) const { return query_value(url, text); }
  std::string status_of(const std::string& id) const {
    return sql("SELECT status FROM erp_exports WHERE id = '" + id + "'");
  }
  // A further export of `of`'s draft, delivered: the newer one.
  std::string newer_export(const std::string& of) const {
    const auto id =
        sql("INSERT INTO erp_exports (org_id, erp_connection_id, draft_order_id)"
            " SELECT org_id, erp_connection_id, draft_order_id FROM erp_exports WHERE id = '" +
            of + "' RETURNING id");
    return id;
  }
  void finish(const std::string& id, const std::string& status, int days_ago) const {
    sql("UPDATE erp_exports SET status = '" + status + "', acked_at = now() - interval '" +
        std::to_string(days_ago) + " days' WHERE id = '" + id + "' RETURNING 1");
  }
};

}  // namespace

TEST_CASE("retention in the database: each kind, never PENDING or SENT, never a draft's last",
          "[retention]") {
  PruneRig rig;
  const auto ids = seed_exports(rig.url, rig.org, 5, 1);
  mark_sent(rig.url, ids);
  const std::string& superseded = ids[0];  // ACKED long ago, then sent again
  const std::string& only = ids[1];        // ACKED long ago, its draft's only export
  const std::string& failed = ids[2];      // FAILED long ago, retried (still PENDING)
  const std::string& sent = ids[3];        // SENT long ago, never answered, archived
  const std::string& archived = ids[4];    // ACKED long ago, archived, superseded
  rig.finish(superseded, "ACKED", 400);
  rig.finish(only, "ACKED", 400);
  rig.finish(failed, "FAILED", 400);
  rig.finish(archived, "ACKED", 400);
  const auto newer = rig.newer_export(superseded);
  mark_sent(rig.url, {newer});
  const auto retried = rig.newer_export(failed);  // PENDING
  const auto newer_archived = rig.newer_export(archived);
  rig.sql(
      "UPDATE erp_exports SET sent_at = now() - interval '400 days',"
      " archive_key = 'copy-' || id WHERE id IN ('" +
      sent + "', '" + archived + "') RETURNING 1");
  // Ack file records: old and new, one naming the superseded export.
  for (int i = 0; i < 5; ++i) {
    rig.sql(
        "INSERT INTO exportd_ack_files (erp_connection_id, file_name, byte_size, sha256,"
        " verdict, disposition, handled_at) VALUES ('" +
        rig.org.connection_id + "', 'ack_" + std::to_string(i) +
        ".json', 1, 'x', 'REPEAT', 'processed', now() - interval '" +
        std::to_string(i < 3 ? 40 : 1) + " days') RETURNING 1");
  }
  rig.sql("UPDATE exportd_ack_files SET erp_export_id = '" + superseded +
          "' WHERE file_name = 'ack_4.json' RETURNING 1");
  for (int i = 0; i < 6; ++i) {
    rig.sql(
        "INSERT INTO audit_log (org_id, action, entity_type, entity_id, created_at)"
        " VALUES ('" +
        rig.org.org_id + "', 'EXPORT_ACKED', 'erp_export', gen_random_uuid(), now() - interval '" +
        std::to_string(i < 5 ? 800 : 10) + " days') RETURNING 1");
  }
  const RetentionConfig config{
      .ack_files_days = 30, .archive_days = 365, .finished_exports_days = 90, .audit_days = 0};

  const auto dry = rig.retention.run(config, true);
  CHECK(dry.removed == std::map<PruneKind, size_t>{{PruneKind::ack_files, 0},
                                                   {PruneKind::ack_file_records, 3},
                                                   {PruneKind::archive_copies, 1},
                                                   {PruneKind::exports, 2},
                                                   {PruneKind::audit_entries, 0}});
  CHECK(rig.sql("SELECT count(*) FROM exportd_ack_files") == "5");
  CHECK(rig.sql("SELECT count(*) FROM erp_exports") == "8");
  CHECK(rig.sql("SELECT count(*) FROM erp_exports WHERE archive_key IS NOT NULL") == "2");
  CHECK(rig.archive.removed.empty());

  const auto report = rig.retention.run(config, false);
  CHECK(report.failures.empty());
  CHECK(report.removed.at(PruneKind::ack_file_records) == 3);
  CHECK(report.removed.at(PruneKind::archive_copies) == 1);
  CHECK(report.removed.at(PruneKind::exports) == 2);
  CHECK(rig.sql("SELECT string_agg(file_name, ',' ORDER BY file_name) FROM exportd_ack_files") ==
        "ack_3.json,ack_4.json");
  // The record of a removed export keeps its row, without the reference.
  CHECK(rig.sql("SELECT erp_export_id IS NULL FROM exportd_ack_files"
                " WHERE file_name = 'ack_4.json'") == "t");
  // The copy of the finished export went; the SENT one's stays.
  CHECK(rig.archive.removed == std::vector<std::string>{"copy-" + archived});
  CHECK(rig.sql("SELECT archive_key FROM erp_exports WHERE id = '" + sent + "'") == "copy-" + sent);
  CHECK(rig.status_of(superseded).empty());
  CHECK(rig.status_of(failed).empty());
  CHECK(rig.status_of(only) == "ACKED");
  CHECK(rig.status_of(sent) == "SENT");
  CHECK(rig.status_of(newer) == "SENT");
  CHECK(rig.status_of(retried) == "PENDING");
  // Kept while its copy was; the copy went after it was looked at.
  CHECK(rig.status_of(archived) == "ACKED");
  CHECK(rig.sql("SELECT archive_key IS NULL FROM erp_exports WHERE id = '" + archived + "'") ==
        "t");
  CHECK(rig.status_of(newer_archived) == "PENDING");
  // audit_days = 0: every entry is kept.
  CHECK(rig.sql("SELECT count(*) FROM audit_log WHERE action = 'EXPORT_ACKED'") == "6");

  // Now the audit log too, in batches of two until nothing older is left;
  // the export whose copy went follows on this run.
  auto with_audit = config;
  with_audit.audit_days = 365;
  const auto second = rig.retention.run(with_audit, false);
  CHECK(second.removed.at(PruneKind::audit_entries) == 5);
  CHECK(second.removed.at(PruneKind::exports) == 1);
  CHECK(rig.status_of(archived).empty());
  CHECK(rig.sql("SELECT count(*) FROM audit_log WHERE action = 'EXPORT_ACKED'") == "1");
  const auto third = rig.retention.run(with_audit, false);
  for (const auto kind : kPruneKinds) {
    CHECK(third.removed.at(kind) == 0);
  }
}

TEST_CASE("retention walks rows of one moment in id order, in one pass, through the index",
          "[retention]") {
  PruneRig rig;
  // 25 entries of the same moment: ids 1..25, whose text order (1, 10, 11,
  // ..., 2, 20, ...) is not their order. Batches of two must still visit all.
  rig.sql(
      "INSERT INTO audit_log (org_id, action, entity_type, entity_id, created_at)"
      " SELECT '" +
      rig.org.org_id +
      "', 'EXPORT_ACKED', 'erp_export', gen_random_uuid(), now() - interval '800 days'"
      " FROM generate_series(1, 25) RETURNING 1");
  PruneCursor cursor;
  size_t removed = 0;
  int batches = 0;
  for (PruneBatch batch; !batch.done && batches < 100; ++batches) {
    batch = rig.store.prune_rows(PruneKind::audit_entries,
                                 std::chrono::system_clock::now() - std::chrono::days(365), 2,
                                 cursor, false);
    removed += batch.removed;
  }
  CHECK(removed == 25);
  CHECK(batches == 13);
  CHECK(rig.sql("SELECT count(*) FROM audit_log") == "0");
}

TEST_CASE("retention: a second pruner skips while the first holds the lock", "[retention]") {
  PruneRig rig;
  rig.sql(
      "INSERT INTO audit_log (org_id, action, entity_type, entity_id, created_at)"
      " VALUES ('" +
      rig.org.org_id +
      "', 'EXPORT_ACKED', 'erp_export', gen_random_uuid(), now() - interval '900 days')"
      " RETURNING 1");
  PgRetentionStore other_host(rig.url);
  REQUIRE(other_host.try_lock());
  const auto skipped = rig.retention.run({.audit_days = 365}, false);
  CHECK(skipped.skipped);
  CHECK(rig.sql("SELECT count(*) FROM audit_log") == "1");
  other_host.unlock();
  const auto ran = rig.retention.run({.audit_days = 365}, false);
  CHECK_FALSE(ran.skipped);
  CHECK(ran.removed.at(PruneKind::audit_entries) == 1);
  // Released after the run: the other host may prune now.
  CHECK(other_host.try_lock());
}

TEST_CASE("retention removes old day folders of a local ack directory", "[retention]") {
  PruneRig rig;
  const auto old_day = day_folder_name(std::chrono::system_clock::now() - std::chrono::days(40));
  const auto today = day_folder_name(std::chrono::system_clock::now());
  for (const std::string disposition : {"processed", "error"}) {
    for (const auto& day : {old_day, today}) {
      fs::create_directories(rig.ack_dir + "/" + disposition + "/" + day);
      std::ofstream(rig.ack_dir + "/" + disposition + "/" + day + "/ack_a.json") << "{}";
    }
  }
  fs::create_directories(rig.ack_dir + "/processed/keep-me");
  const auto report = rig.retention.run({.ack_files_days = 30}, false);
  CHECK(report.removed.at(PruneKind::ack_files) == 2);
  CHECK(names_in(rig.ack_dir + "/processed") == std::vector<std::string>{today, "keep-me"});
  CHECK(names_in(rig.ack_dir + "/error") == std::vector<std::string>{today});
}

TEST_CASE("retention removes old day folders over SFTP", "[retention][sftp]") {
  PruneRig rig;
  SshdServer& sshd = SshdServer::shared();
  const std::string acks = sshd.user_dir("prune-acks");
  const nlohmann::json config = sshd.connection_config(acks);
  rig.sql("UPDATE erp_connections SET config = '" + config.dump() + "' WHERE id = '" +
          rig.org.connection_id + "' RETURNING 1");
  // Folders made by the server's user, which must be able to empty them.
  SftpDropzone maker(sshd.settings(), SftpOptions{}, rig.deadlines);
  const auto old_day = day_folder_name(std::chrono::system_clock::now() - std::chrono::days(40));
  const auto young_day = day_folder_name(std::chrono::system_clock::now() - std::chrono::days(2));
  for (const auto& day : {old_day, young_day}) {
    maker.make_directory(acks + "/processed/" + day);
    maker.make_directory(acks + "/error/" + day);
    for (int i = 0; i < 3; ++i) {
      std::ofstream(acks + "/processed/" + day + "/ack_" + std::to_string(i) + ".json") << "{}";
    }
    std::ofstream(acks + "/error/" + day + "/ack_bad.json") << "{";
  }
  const auto dry = rig.retention.run({.ack_files_days = 30}, true);
  CHECK(dry.removed.at(PruneKind::ack_files) == 4);
  CHECK(names_in(acks + "/processed").size() == 2);

  const auto report = rig.retention.run({.ack_files_days = 30}, false);
  CHECK(report.failures.empty());
  CHECK(report.removed.at(PruneKind::ack_files) == 4);
  CHECK(names_in(acks + "/processed") == std::vector<std::string>{young_day});
  CHECK(names_in(acks + "/error") == std::vector<std::string>{young_day});
  CHECK(names_in(acks + "/processed/" + young_day).size() == 3);
}
