// `show` and `resend` against a real PostgreSQL cluster, with the directory
// archive and the filesystem dropzone on real directories, and over SFTP
// against a real sshd.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "adapters/filesystem/directory_archive.h"
#include "adapters/filesystem/filesystem_dropzone.h"
#include "adapters/postgres/pg_export_history.h"
#include "adapters/sftp/sftp_dropzone.h"
#include "adapters/socket_deadlines.h"
#include "app/dropzone_cache.h"
#include "app/export_show.h"
#include "app/resend.h"
#include "app/sha256.h"
#include "domain/dated_names.h"
#include "domain/failure.h"
#include "tests/support/failure_kind.h"
#include "tests/support/files.h"
#include "tests/support/pg_cluster.h"
#include "tests/support/process.h"
#include "tests/support/seed.h"
#include "tests/support/sshd_server.h"

using namespace exportd;
using namespace exportd::testing;
namespace fs = std::filesystem;

namespace {

const std::string kResendActor = "11111111-2222-3333-4444-555555555555";

// An org whose exports were delivered into `export_dir` and archived.
struct ResendPgRig {
  std::string url = PgCluster::shared().fresh_database();
  std::string root = make_temp_dir("exportd-resend");
  std::string export_dir = root + "/acme/exports";
  SeededOrg org = seed_org(url, "acme", export_dir, root + "/acme/acks");
  DirectoryArchive archive{(fs::create_directory(root + "/archive"), root + "/archive")};
  FilesystemDropzone filesystem{{root}};
  SocketDeadlines deadlines;
  DropzoneCache dropzones{filesystem,
                          [this](const ConnectionSettings& s) {
                            return std::make_unique<SftpDropzone>(s, SftpOptions{}, deadlines);
                          },
                          [](const std::string& sealed) { return sealed; }, 1};
  PgExportHistory history{url};

  ~ResendPgRig() { fs::remove_all(root); }

  std::string file_name(const std::string& id) {
    return query_value(url, "SELECT file_name FROM erp_exports WHERE id = '" + id + "'");
  }
  // Records `id` SENT with `bytes` delivered into the dropzone and archived.
  void deliver(const std::string& id, const std::string& bytes) {
    mark_sent(url, {id});
    const std::string name = file_name(id);
    const std::string key =
        archive.put(archive_object_name("acme", name, std::chrono::system_clock::now()), bytes,
                    sha256_hex(bytes));
    fs::create_directories(export_dir);
    std::ofstream(export_dir + "/" + name) << bytes;
    query_value(url, "UPDATE erp_exports SET archive_key = '" + key + "', sha256 = '" +
                         sha256_hex(bytes) + "', byte_size = " + std::to_string(bytes.size()) +
                         ", dropzone_path = '" + export_dir + "/" + name + "' WHERE id = '" + id +
                         "' RETURNING 1");
  }
  ResendResult resend(const std::string& id) {
    return resend_export(history, &archive, dropzones, {id, kResendActor});
  }
  std::string resent_audits() {
    return query_value(url, "SELECT count(*) FROM audit_log WHERE action = 'EXPORT_RESENT'");
  }
};

std::string order_bytes(int n) {
  return "{\"order\":" + std::to_string(n) + ",\"note\":\"Ünïcode\"}\n";
}

}  // namespace

TEST_CASE("resend writes the archived bytes again after the delivered file was deleted",
          "[postgres][resend]") {
  ResendPgRig rig;
  const auto ids = seed_exports(rig.url, rig.org, 2, 1);
  rig.deliver(ids[0], order_bytes(1));
  rig.deliver(ids[1], order_bytes(2));
  query_value(rig.url,
              "UPDATE erp_exports SET status = 'ACKED', erp_order_id = 'SO-2'"
              " WHERE id = '" +
                  ids[1] + "' RETURNING 1");
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string path = rig.export_dir + "/" + rig.file_name(ids[i]);
    fs::remove(path);
    const auto result = rig.resend(ids[i]);
    CHECK(result.written);
    CHECK(result.path == path);
    CHECK(slurp(path) == order_bytes(static_cast<int>(i) + 1));
  }
  CHECK(names_in(rig.export_dir).size() == 2);  // no temp file left
  CHECK(rig.resent_audits() == "2");
  CHECK(query_value(rig.url,
                    "SELECT actor_user_id::text || ' ' || (details->>'file_name') || ' ' ||"
                    "       (details->>'sha256') FROM audit_log"
                    " WHERE action = 'EXPORT_RESENT' AND entity_type = 'erp_export'"
                    "   AND entity_id = '" +
                        ids[0] + "'") ==
        kResendActor + " " + rig.file_name(ids[0]) + " " + sha256_hex(order_bytes(1)));
  // Nothing else changed: same statuses, no new export.
  CHECK(query_value(rig.url,
                    "SELECT string_agg(status::text, ',' ORDER BY status)"
                    " FROM erp_exports") == "SENT,ACKED");

  // Still there: nothing written, nothing audited.
  std::ofstream(rig.export_dir + "/" + rig.file_name(ids[0])) << "what the ERP has";
  CHECK_FALSE(rig.resend(ids[0]).written);
  CHECK(slurp(rig.export_dir + "/" + rig.file_name(ids[0])) == "what the ERP has");
  CHECK(rig.resent_audits() == "2");
}

TEST_CASE("resend refuses PENDING and FAILED exports, a missing copy and a changed copy",
          "[postgres][resend]") {
  ResendPgRig rig;
  const auto ids = seed_exports(rig.url, rig.org, 5, 1);
  query_value(rig.url,
              "UPDATE erp_exports SET status = 'FAILED' WHERE id = '" + ids[1] + "' RETURNING 1");
  mark_sent(rig.url, {ids[2]});  // SENT, never archived
  rig.deliver(ids[3], order_bytes(3));
  rig.archive.put(
      query_value(rig.url, "SELECT archive_key FROM erp_exports WHERE id = '" + ids[3] + "'"),
      order_bytes(99), "");  // the copy no longer matches its sha256
  rig.deliver(ids[4], order_bytes(4));
  rig.archive.remove(
      query_value(rig.url, "SELECT archive_key FROM erp_exports WHERE id = '" + ids[4] + "'"));
  fs::remove_all(rig.export_dir);
  for (const auto& id : ids) {
    INFO(query_value(rig.url, "SELECT status FROM erp_exports WHERE id = '" + id + "'"));
    CHECK(kind_of([&] { rig.resend(id); }) == FailureKind::refused);
  }
  CHECK_FALSE(fs::exists(rig.export_dir));
  CHECK(rig.resent_audits() == "0");
  CHECK(kind_of([&] { rig.resend("aaaaaaaa-0000-0000-0000-000000000000"); }) ==
        FailureKind::bad_config);
}

TEST_CASE("show tells an export's whole story in time order", "[postgres][show]") {
  ResendPgRig rig;
  const auto ids = seed_exports(rig.url, rig.org, 2, 1);
  rig.deliver(ids[0], order_bytes(1));
  const std::string draft =
      query_value(rig.url, "SELECT draft_order_id FROM erp_exports WHERE id = '" + ids[0] + "'");
  const std::string other_draft =
      query_value(rig.url, "SELECT draft_order_id FROM erp_exports WHERE id = '" + ids[1] + "'");
  query_value(rig.url,
              "UPDATE erp_exports SET status = 'ACKED', erp_order_id = 'SO-1',"
              " acked_at = now(), attempts = 2,"
              " error_json = '{\"code\": \"EARLIER\"}' WHERE id = '" +
                  ids[0] + "' RETURNING 1");
  // Written out of time order, so only the times can put them in order.
  const auto audit = [&](const std::string& at, const std::string& action, const std::string& type,
                         const std::string& entity, const std::string& details) {
    query_value(rig.url,
                "INSERT INTO audit_log (org_id, action, entity_type, entity_id, details,"
                " created_at) VALUES ('" +
                    rig.org.org_id + "', '" + action + "', '" + type + "', '" + entity + "', '" +
                    details + "', TIMESTAMPTZ '" + at + "') RETURNING 1");
  };
  const std::string names = "{\"export_id\": \"" + ids[0] + "\"}";
  audit("2026-01-01 10:00:03Z", "EXPORT_ACKED", "erp_export", ids[0], "{\"erp_order_id\": 1}");
  audit("2026-01-01 10:00:01Z", "DRAFT_PUSH_FAILED", "draft_order", draft,
        "{\"export_id\": \"" + ids[0] + "\", \"error\": {\"code\": \"EARLIER\"}}");
  audit("2026-01-01 10:00:00Z", "DRAFT_PUSH_REQUESTED", "draft_order", draft, names);
  audit("2026-01-01 10:00:02Z", "DRAFT_PUSHED", "draft_order", draft, names);
  audit("2026-01-01 09:00:00Z", "DRAFT_APPROVED", "draft_order", draft, "{}");  // names no export
  audit("2026-01-01 10:00:00Z", "DRAFT_PUSH_REQUESTED", "draft_order", other_draft,
        "{\"export_id\": \"" + ids[1] + "\"}");
  query_value(rig.url,
              "INSERT INTO exportd_ack_files (erp_connection_id, file_name, byte_size, sha256,"
              " verdict, reason, erp_export_id, disposition, handled_at) VALUES"
              " ('" +
                  rig.org.connection_id +
                  "', 'ack_b.json', 10, 'bb', 'REPEAT',"
                  "  'already ACKED', '" +
                  ids[0] +
                  "', 'processed', '2026-01-01 10:00:04Z'),"
                  " ('" +
                  rig.org.connection_id + "', 'ack_a.json', 12, 'aa', 'ACKED', NULL, '" + ids[0] +
                  "', 'processed', '2026-01-01 10:00:03Z') RETURNING 1");

  const auto story = show_export(rig.history, ids[0]);
  const auto& r = story.record;
  CHECK(r.export_id == ids[0]);
  CHECK(r.org_slug == "acme");
  CHECK(r.org_id == rig.org.org_id);
  CHECK(r.connection_id == rig.org.connection_id);
  CHECK(r.draft_id == draft);
  CHECK(r.status == ExportStatus::acked);
  CHECK(r.attempts == 2);
  CHECK(r.file_name == rig.file_name(ids[0]));
  CHECK(r.dropzone_path == rig.export_dir + "/" + rig.file_name(ids[0]));
  CHECK(r.sha256 == sha256_hex(order_bytes(1)));
  CHECK(r.byte_size == static_cast<std::int64_t>(order_bytes(1).size()));
  CHECK(rig.archive.get(r.archive_key.value()) == order_bytes(1));
  CHECK(r.erp_order_id == "SO-1");
  CHECK(r.error_json["code"] == "EARLIER");
  CHECK(r.sent_at.has_value());
  CHECK(r.acked_at.has_value());
  CHECK_THAT(r.created_at, Catch::Matches(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"));

  REQUIRE(story.ack_files.size() == 2);
  CHECK(story.ack_files[0].file_name == "ack_a.json");
  CHECK(story.ack_files[0].handled_at == "2026-01-01T10:00:03.000Z");
  CHECK(story.ack_files[1].verdict == "REPEAT");
  CHECK(story.ack_files[1].reason == "already ACKED");
  CHECK(story.ack_files[1].disposition == "processed");

  std::vector<std::string> actions;
  for (const auto& entry : story.audit) {
    actions.push_back(entry.action);
  }
  CHECK(actions == std::vector<std::string>{"DRAFT_PUSH_REQUESTED", "DRAFT_PUSH_FAILED",
                                            "DRAFT_PUSHED", "EXPORT_ACKED"});
  const auto json = export_story_json(story);
  REQUIRE(json["failures"].size() == 1);
  CHECK(json["failures"][0]["details"]["error"]["code"] == "EARLIER");
}

TEST_CASE("resend over SFTP after the delivered file was deleted", "[postgres][resend][sftp]") {
  ResendPgRig rig;
  auto& sshd = SshdServer::shared();
  const std::string dir = sshd.user_dir("resend");
  const nlohmann::json config = sshd.connection_config(dir);
  query_value(rig.url, "UPDATE erp_connections SET config = '" + config.dump() + "' WHERE id = '" +
                           rig.org.connection_id + "' RETURNING 1");
  const auto ids = seed_exports(rig.url, rig.org, 1, 1);
  rig.deliver(ids[0], order_bytes(7));
  const std::string path = dir + "/" + rig.file_name(ids[0]);  // remote paths are local here
  const auto result = rig.resend(ids[0]);
  CHECK(result.written);
  CHECK(result.path == path);
  CHECK(slurp(path) == order_bytes(7));
  CHECK_FALSE(rig.resend(ids[0]).written);
  fs::remove(path);
  CHECK(rig.resend(ids[0]).written);
  CHECK(slurp(path) == order_bytes(7));
  CHECK(names_in(dir) == std::vector<std::string>{rig.file_name(ids[0])});
  CHECK(rig.resent_audits() == "2");
}
