// The operator's draft commands and the figures of `status`, on PostgreSQL.
#include "adapters/postgres/pg_draft_store.h"

#include <pqxx/pqxx>

#include "adapters/postgres/pg_queue_stats.h"
#include "adapters/postgres/pg_transaction.h"
#include "domain/failure.h"
#include "domain/status.h"

namespace exportd {

namespace {

// The draft's status, org and active connection (null when none), its row
// locked until the transaction ends.
pqxx::row lock_draft(pqxx::work& tx, const std::string& draft_id) {
  const auto rows = tx.exec_params(
      "SELECT d.status::text AS status, d.org_id, c.id AS connection_id FROM draft_orders d"
      "  LEFT JOIN erp_connections c ON c.org_id = d.org_id AND c.is_active"
      "       AND c.connector_type = 'DROPZONE_JSON_V1'"
      " WHERE d.id = $1::uuid FOR UPDATE OF d",
      draft_id);
  if (rows.empty()) {
    throw Failure(FailureKind::bad_config, "there is no draft '" + draft_id + "'");
  }
  return rows[0];
}

}  // namespace

PgDraftStore::PgDraftStore(std::string database_url) : database_url_(std::move(database_url)) {}

void PgDraftStore::approve(const std::string& draft_id, const std::string& actor) {
  in_transaction(database_url_, [&](pqxx::work& tx) {
    const auto draft = lock_draft(tx, draft_id);
    const auto status = draft["status"].as<std::string>();
    if (status != "READY") {
      throw Failure(FailureKind::refused,
                    "draft '" + draft_id + "' is " + status + ", only a READY draft is approved");
    }
    tx.exec_params(
        "UPDATE draft_orders SET status = 'APPROVED', approved_at = now(),"
        "       approved_by_user_id = $2::uuid WHERE id = $1::uuid",
        draft_id, actor);
    tx.exec_params(
        "INSERT INTO audit_log (org_id, actor_user_id, action, entity_type, entity_id)"
        " VALUES ($1, $2::uuid, 'DRAFT_APPROVED', 'draft_order', $3::uuid)",
        draft["org_id"].as<std::string>(), actor, draft_id);
    return 0;
  });
}

std::string PgDraftStore::enqueue(const std::string& draft_id, DraftStatus from,
                                  const std::optional<std::string>& actor) {
  return in_transaction(database_url_, [&](pqxx::work& tx) {
    const auto draft = lock_draft(tx, draft_id);
    const auto status = draft["status"].as<std::string>();
    if (parse_draft_status(status) != from) {
      throw Failure(FailureKind::refused, "draft '" + draft_id + "' is " + status + ", not " +
                                              std::string(to_string(from)));
    }
    if (draft["connection_id"].is_null()) {
      throw Failure(FailureKind::refused,
                    "the org of draft '" + draft_id + "' has no active ERP connection");
    }
    tx.exec_params("UPDATE draft_orders SET status = 'PUSHING' WHERE id = $1::uuid", draft_id);
    auto export_id = tx.exec_params1(
                           "INSERT INTO erp_exports (org_id, erp_connection_id, draft_order_id)"
                           " VALUES ($1, $2, $3::uuid) RETURNING id",
                           draft["org_id"].as<std::string>(),
                           draft["connection_id"].as<std::string>(), draft_id)["id"]
                         .as<std::string>();
    tx.exec_params(
        "INSERT INTO audit_log (org_id, actor_user_id, action, entity_type, entity_id, details)"
        " VALUES ($1, $2::uuid, 'DRAFT_PUSH_REQUESTED', 'draft_order', $3::uuid,"
        "         jsonb_build_object('export_id', $4::uuid, 'retry', $5::boolean))",
        draft["org_id"].as<std::string>(), actor, draft_id, export_id, from == DraftStatus::error);
    return export_id;
  });
}

StatusReport PgDraftStore::status_report() {
  return in_transaction(database_url_, [&](pqxx::work& tx) {
    StatusReport report;
    report.queue = read_queue_snapshot(tx);
    report.failed_last_24h = tx.exec1(
                                   "SELECT count(*) AS failed FROM erp_exports"
                                   " WHERE status = 'FAILED'"
                                   "   AND updated_at > now() - interval '24 hours'")["failed"]
                                 .as<long long>();
    const auto text = [](const pqxx::field& f) {
      return f.is_null() ? std::nullopt : std::optional(f.as<std::string>());
    };
    const auto overdue = [&](const std::string& connection_id) {
      const auto it = report.queue.ack_overdue.find(connection_id);
      return it == report.queue.ack_overdue.end() ? AckOverdue{} : it->second;
    };
    for (const auto& row :
         tx.exec("SELECT o.slug, c.id, c.is_active,"
                 "       to_char(c.last_ack_poll_at AT TIME ZONE 'UTC',"
                 "               'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS last_ack_poll_at,"
                 "       c.last_ack_poll_error, c.config::text AS config,"
                 "       coalesce(f.in_flight, 0) AS in_flight, ci.state, ci.consecutive_failures,"
                 "       to_char(ci.changed_at AT TIME ZONE 'UTC',"
                 "               'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS since, ci.reported_by"
                 "  FROM erp_connections c JOIN orgs o ON o.id = c.org_id"
                 "  LEFT JOIN exportd_connection_circuits ci ON ci.erp_connection_id = c.id"
                 // Through the index of PENDING exports: finished ones are never read.
                 "  LEFT JOIN (SELECT erp_connection_id, count(*) AS in_flight FROM erp_exports"
                 "              WHERE status = 'PENDING' AND lease_expires_at > now()"
                 "              GROUP BY erp_connection_id) f ON f.erp_connection_id = c.id"
                 " ORDER BY o.slug")) {
      ConnectionReport c{row["slug"].as<std::string>(),
                         row["id"].as<std::string>(),
                         row["is_active"].as<bool>(),
                         text(row["last_ack_poll_at"]),
                         text(row["last_ack_poll_error"]),
                         overdue(row["id"].as<std::string>()),
                         row["config"].as<std::string>(),
                         row["in_flight"].as<long long>(),
                         std::nullopt};
      if (!row["state"].is_null()) {
        c.circuit = ConnectionReport::Circuit{
            row["state"].as<std::string>(), row["consecutive_failures"].as<int>(),
            row["since"].as<std::string>(), row["reported_by"].as<std::string>()};
      }
      report.connections.push_back(std::move(c));
    }
    return report;
  });
}

}  // namespace exportd
