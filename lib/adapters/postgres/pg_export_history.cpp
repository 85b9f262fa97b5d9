// An export's record, its ack files and its audit entries, read in one
// transaction; times printed by the database in UTC with milliseconds.
#include "adapters/postgres/pg_export_history.h"

#include <pqxx/pqxx>

#include "adapters/postgres/pg_connection_store.h"
#include "adapters/postgres/pg_transaction.h"
#include "domain/failure.h"

namespace exportd {

namespace {

// Every time shown to an operator: UTC, milliseconds, sortable as text.
std::string utc(const std::string& column) {
  return "to_char(" + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";
}

std::optional<std::string> text(const pqxx::field& field) {
  return field.is_null() ? std::nullopt : std::optional(field.as<std::string>());
}

nlohmann::json json_of(const pqxx::field& field) {
  return field.is_null() ? nlohmann::json() : nlohmann::json::parse(field.as<std::string>());
}

std::optional<ExportRecord> read_record(pqxx::work& tx, const std::string& export_id) {
  const auto rows = tx.exec_params(
      "SELECT e.id, e.org_id, o.slug, e.erp_connection_id, e.draft_order_id, e.status::text,"
      "       e.attempts, e.file_name, e.dropzone_path, e.sha256, e.byte_size, e.archive_key,"
      "       e.erp_order_id, e.error_json::text AS error_json, " +
          utc("e.created_at") + " AS created_at, " + utc("e.first_attempt_at") +
          " AS first_attempt_at, " + utc("e.sent_at") + " AS sent_at, " + utc("e.acked_at") +
          " AS acked_at"
          "  FROM erp_exports e JOIN orgs o ON o.id = e.org_id"
          " WHERE e.id = $1::uuid",
      export_id);
  if (rows.empty()) {
    return std::nullopt;
  }
  const auto& row = rows[0];
  return ExportRecord{.export_id = row["id"].as<std::string>(),
                      .org_id = row["org_id"].as<std::string>(),
                      .org_slug = row["slug"].as<std::string>(),
                      .connection_id = row["erp_connection_id"].as<std::string>(),
                      .draft_id = row["draft_order_id"].as<std::string>(),
                      .status = parse_export_status(row["status"].as<std::string>()).value(),
                      .attempts = row["attempts"].as<int>(),
                      .file_name = text(row["file_name"]),
                      .dropzone_path = text(row["dropzone_path"]),
                      .sha256 = text(row["sha256"]),
                      .byte_size = row["byte_size"].is_null()
                                       ? std::nullopt
                                       : std::optional(row["byte_size"].as<std::int64_t>()),
                      .archive_key = text(row["archive_key"]),
                      .erp_order_id = text(row["erp_order_id"]),
                      .error_json = json_of(row["error_json"]),
                      .created_at = row["created_at"].as<std::string>(),
                      .first_attempt_at = text(row["first_attempt_at"]),
                      .sent_at = text(row["sent_at"]),
                      .acked_at = text(row["acked_at"])};
}

}  // namespace

PgExportHistory::PgExportHistory(std::string database_url)
    : database_url_(std::move(database_url)) {}

std::optional<ExportRecord> PgExportHistory::find(const std::string& export_id) {
  return in_transaction(database_url_, [&](pqxx::work& tx) { return read_record(tx, export_id); });
}

std::optional<ExportStory> PgExportHistory::story(const std::string& export_id) {
  return in_transaction(database_url_, [&](pqxx::work& tx) -> std::optional<ExportStory> {
    tx.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    auto record = read_record(tx, export_id);
    if (!record) {
      return std::nullopt;
    }
    ExportStory story{.record = std::move(*record)};
    for (const auto& row :
         tx.exec_params("SELECT file_name, verdict, reason, disposition, byte_size, sha256, " +
                            utc("handled_at") +
                            " AS handled_at"
                            "  FROM exportd_ack_files WHERE erp_export_id = $1::uuid"
                            " ORDER BY handled_at, id",
                        export_id)) {
      story.ack_files.push_back({.file_name = row["file_name"].as<std::string>(),
                                 .verdict = row["verdict"].as<std::string>(),
                                 .reason = text(row["reason"]),
                                 .disposition = row["disposition"].as<std::string>(),
                                 .handled_at = row["handled_at"].as<std::string>(),
                                 .byte_size = row["byte_size"].as<std::int64_t>(),
                                 .sha256 = row["sha256"].as<std::string>()});
    }
    // By entity (audit_log_entity), the draft's entries kept when they name this export.
    for (const auto& row :
         tx.exec_params("SELECT " + utc("created_at") +
                            " AS at, action, entity_type, entity_id, actor_user_id,"
                            "       details::text AS details"
                            "  FROM audit_log"
                            " WHERE (entity_type = 'erp_export' AND entity_id = $1::uuid)"
                            "    OR (entity_type = 'draft_order' AND entity_id = $2::uuid"
                            "        AND details->>'export_id' = $1::uuid::text)"
                            " ORDER BY created_at, id",
                        export_id, story.record.draft_id)) {
      story.audit.push_back({.at = row["at"].as<std::string>(),
                             .action = row["action"].as<std::string>(),
                             .entity_type = row["entity_type"].as<std::string>(),
                             .entity_id = row["entity_id"].as<std::string>(),
                             .actor = text(row["actor_user_id"]),
                             .details = json_of(row["details"])});
    }
    return story;
  });
}

StoredConnection PgExportHistory::connection(const std::string& connection_id) {
  return in_transaction(database_url_, [&](pqxx::work& tx) {
    const auto rows = tx.exec_params(
        "SELECT id, config::text AS config, encode(secret, 'hex') AS secret, is_active"
        "  FROM erp_connections WHERE id = $1::uuid",
        connection_id);
    if (rows.empty()) {
      throw Failure(FailureKind::bad_config, "there is no connection '" + connection_id + "'");
    }
    return stored_connection(rows[0]);
  });
}

void PgExportHistory::record_resent(const ExportRecord& record,
                                    const std::optional<std::string>& actor,
                                    const std::string& path) {
  in_transaction(database_url_, [&](pqxx::work& tx) {
    tx.exec_params(
        "INSERT INTO audit_log (org_id, actor_user_id, action, entity_type, entity_id, details)"
        " VALUES ($1::uuid, $2::uuid, 'EXPORT_RESENT', 'erp_export', $3::uuid,"
        "         jsonb_build_object('file_name', $4::text, 'sha256', $5::text,"
        "                            'archive_key', $6::text, 'path', $7::text))",
        record.org_id, actor, record.export_id, record.file_name, record.sha256, record.archive_key,
        path);
    return 0;
  });
}

}  // namespace exportd
