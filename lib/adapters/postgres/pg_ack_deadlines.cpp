// The ack deadline sweep: a transaction-level advisory lock keeps it to one
// host at a time, and one statement finds the overdue exports of every
// connection through a partial index of unanswered SENT exports, acts on
// them, moves the failed ones' drafts and writes the audit entries.
#include "adapters/postgres/pg_ack_deadlines.h"

#include <array>
#include <cstdio>
#include <ctime>

#include "adapters/postgres/pg_failure.h"
#include "adapters/postgres/pg_session.h"

namespace exportd {

namespace {

// Advisory lock class beside the ack poller's (7341); taken per transaction,
// so a crashed sweeper never holds it.
constexpr int kAckDeadlineLock = 7342;

// Per connection its deadline: the stored ack_timeout_s ($2, the daemon's,
// where none is set; a value that plain SQL made unusable counts as unset),
// and "fail" only when said so, for alerting changes nothing. The lateral
// scan walks the erp_exports_ack_deadline index from the oldest SENT export
// and stops at the first one still in time; rows another transaction holds
// (an answer being recorded) are skipped.
constexpr const char* kSweep = R"SQL(
WITH connection AS (
  SELECT c.id, o.slug,
         CASE WHEN jsonb_typeof(c.config->'ack_timeout_s') = 'number'
              THEN least(greatest((c.config->>'ack_timeout_s')::numeric, 0), 2147483647)::bigint
              ELSE $2::bigint END AS timeout_s,
         c.config->>'on_ack_timeout' IS NOT DISTINCT FROM 'fail' AS fail
    FROM erp_connections c JOIN orgs o ON o.id = c.org_id
   WHERE c.connector_type = 'DROPZONE_JSON_V1'
), due AS (
  SELECT d.id, connection.slug, connection.timeout_s, connection.fail
    FROM connection CROSS JOIN LATERAL (
         SELECT e.id FROM erp_exports e
          WHERE e.erp_connection_id = connection.id
            AND e.status = 'SENT' AND e.ack_overdue_at IS NULL
            AND e.sent_at <= $1::timestamptz - connection.timeout_s * interval '1 second'
          ORDER BY e.sent_at
          LIMIT $3
          FOR UPDATE OF e SKIP LOCKED) d
   WHERE connection.timeout_s > 0
   LIMIT $3
), changed AS (
  UPDATE erp_exports e
     SET ack_overdue_at = $1::timestamptz,
         status = CASE WHEN due.fail THEN 'FAILED'::erp_export_status ELSE e.status END,
         error_json = CASE WHEN due.fail
                           THEN jsonb_build_object(
                                  'code', 'ACK_TIMEOUT',
                                  'sent_at', to_char(e.sent_at AT TIME ZONE 'UTC',
                                                     'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                  'ack_timeout_s', due.timeout_s)
                           ELSE e.error_json END
    FROM due
   WHERE e.id = due.id
  RETURNING e.id, e.org_id, e.erp_connection_id, e.draft_order_id, due.slug, due.timeout_s,
            due.fail,
            to_char(e.sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS sent_at
), drafts AS (
  UPDATE draft_orders d SET status = 'ERROR'
    FROM changed
   WHERE changed.fail AND d.id = changed.draft_order_id AND d.status = 'PUSHED'
), audit AS (
  INSERT INTO audit_log (org_id, action, entity_type, entity_id, details)
  SELECT org_id, CASE WHEN fail THEN 'EXPORT_ACK_TIMEOUT' ELSE 'EXPORT_ACK_OVERDUE' END,
         'erp_export', id,
         jsonb_build_object('erp_connection_id', erp_connection_id,
                            'draft_order_id', draft_order_id, 'sent_at', sent_at,
                            'ack_timeout_s', timeout_s)
    FROM changed
)
SELECT id, slug, erp_connection_id, sent_at, timeout_s, fail FROM changed ORDER BY sent_at, id
)SQL";

// As timestamptz reads it, to the microsecond.
std::string timestamp_literal(std::chrono::system_clock::time_point t) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(t);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t - seconds).count();
  const std::time_t time = std::chrono::system_clock::to_time_t(seconds);
  std::tm utc{};
  gmtime_r(&time, &utc);
  std::array<char, 40> text{};
  const size_t length = std::strftime(text.data(), text.size(), "%Y-%m-%d %H:%M:%S", &utc);
  std::array<char, 16> fraction{};
  std::snprintf(fraction.data(), fraction.size(), ".%06u+00", static_cast<unsigned>(us));
  return std::string(text.data(), length) + fraction.data();
}

}  // namespace

PgAckDeadlines::PgAckDeadlines(std::string database_url) : database_url_(std::move(database_url)) {}

std::optional<std::vector<AckDeadlineChange>> PgAckDeadlines::sweep(
    std::chrono::system_clock::time_point as_of, std::chrono::seconds default_timeout,
    int max_exports) {
  try {
    if (!conn_ || !conn_->is_open()) {
      conn_ = pg_connect(database_url_);
    }
    const auto deadline = pg_deadline(*conn_, pg_call_deadline());
    pqxx::work tx(*conn_);
    if (!tx.exec_params1("SELECT pg_try_advisory_xact_lock($1, hashtext('ack deadlines'))"
                         "       AS held",
                         kAckDeadlineLock)["held"]
             .as<bool>()) {
      return std::nullopt;
    }
    std::vector<AckDeadlineChange> changes;
    for (const auto& row :
         tx.exec_params(kSweep, timestamp_literal(as_of), default_timeout.count(), max_exports)) {
      changes.push_back(
          {.export_id = row["id"].as<std::string>(),
           .org = row["slug"].as<std::string>(),
           .connection_id = row["erp_connection_id"].as<std::string>(),
           .sent_at = row["sent_at"].as<std::string>(),
           .ack_timeout_s = row["timeout_s"].as<std::int64_t>(),
           .action = row["fail"].as<bool>() ? AckTimeoutAction::fail : AckTimeoutAction::alert});
    }
    tx.commit();
    return changes;
  } catch (const pqxx::pqxx_exception& e) {
    if (conn_ && !conn_->is_open()) {
      conn_.reset();
    }
    throw pg_failure(e);
  }
}

}  // namespace exportd
