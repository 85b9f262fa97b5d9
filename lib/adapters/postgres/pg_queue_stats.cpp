// The queue's figures, on a connection of its own with short timeouts.
#include "adapters/postgres/pg_queue_stats.h"

#include "adapters/postgres/pg_session.h"
#include "domain/status.h"

namespace exportd {

namespace {

// Short: a health check must answer within seconds whatever the database does.
constexpr PgTimeouts kTimeouts{.connect = std::chrono::seconds(2),
                               .statement = std::chrono::seconds(2)};

}  // namespace

QueueSnapshot read_queue_snapshot(pqxx::transaction_base& tx) {
  QueueSnapshot snapshot;
  for (const auto status : kExportStatuses) {
    snapshot.exports_by_status[status] = 0;
  }
  // Live exports through the status index, which reads only their entries;
  // finished ones, however many, from the counts the triggers of migration
  // 0008 keep.
  for (const auto& row :
       tx.exec("SELECT status::text AS status, count(*) AS exports FROM erp_exports"
               " WHERE status IN ('PENDING', 'SENT') GROUP BY 1"
               " UNION ALL SELECT 'ACKED', sum(acked) FROM exportd_finished_counts"
               " UNION ALL SELECT 'FAILED', sum(failed) FROM exportd_finished_counts")) {
    if (const auto status = parse_export_status(row["status"].as<std::string>())) {
      snapshot.exports_by_status[*status] = row["exports"].as<long long>();
    }
  }
  const auto oldest = tx.exec1(
      "SELECT floor(extract(epoch FROM now() - min(created_at)))::bigint AS age_s"
      "  FROM erp_exports WHERE status = 'PENDING'")["age_s"];
  if (!oldest.is_null()) {
    snapshot.oldest_pending_age = std::chrono::seconds(oldest.as<long long>());
  }
  // The erp_exports_ack_overdue index holds only these exports.
  for (const auto& row :
       tx.exec("SELECT c.id, o.exports,"
               "       floor(extract(epoch FROM now() - o.oldest))::bigint AS oldest_age_s"
               "  FROM erp_connections c CROSS JOIN LATERAL ("
               "       SELECT count(*) AS exports, min(e.sent_at) AS oldest FROM erp_exports e"
               "        WHERE e.erp_connection_id = c.id AND e.status = 'SENT'"
               "          AND e.ack_overdue_at IS NOT NULL) o"
               " WHERE c.connector_type = 'DROPZONE_JSON_V1'")) {
    auto& overdue = snapshot.ack_overdue[row["id"].as<std::string>()];
    overdue.exports = row["exports"].as<long long>();
    if (!row["oldest_age_s"].is_null()) {
      overdue.oldest_age = std::chrono::seconds(row["oldest_age_s"].as<long long>());
    }
  }
  return snapshot;
}

PgQueueStats::PgQueueStats(std::string database_url) : database_url_(std::move(database_url)) {}

template <typename Read>
auto PgQueueStats::read(Read read_in)
    -> std::optional<std::invoke_result_t<Read, pqxx::transaction_base&>> {
  std::lock_guard lock(mutex_);
  try {
    if (!conn_ || !conn_->is_open()) {
      conn_ = pg_connect(database_url_, kTimeouts);
    }
    const auto deadline = pg_deadline(*conn_, pg_call_deadline(kTimeouts));
    pqxx::read_transaction tx(*conn_);
    return read_in(tx);
  } catch (const std::exception&) {
    conn_.reset();
    return std::nullopt;
  }
}

std::optional<QueueSnapshot> PgQueueStats::snapshot() {
  return read(read_queue_snapshot);
}

std::optional<long long> PgQueueStats::pending() {
  return read([](pqxx::transaction_base& tx) {
    return tx
        .exec1("SELECT count(*) AS pending FROM erp_exports WHERE status = 'PENDING'")["pending"]
        .as<long long>();
  });
}

std::optional<long long> PgQueueStats::free_connections() {
  return read([](pqxx::transaction_base& tx) {
    // reserved_connections exists from PostgreSQL 16 on.
    return tx
        .exec1(
            "SELECT current_setting('max_connections')::bigint"
            "     - current_setting('superuser_reserved_connections')::bigint"
            "     - coalesce(current_setting('reserved_connections', true)::bigint, 0)"
            "     - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')"
            "       AS free")["free"]
        .as<long long>();
  });
}

}  // namespace exportd
