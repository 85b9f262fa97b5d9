// Each batch reads the next rows in (date, id) order from where the last one
// stopped, using the indexes of migration 0005, and removes the ones that may
// go in the same short transaction. A finished export is removed only when a
// newer export of its draft exists, so every draft keeps its latest record;
// ack file records naming it keep their row (they still stop the same file
// from being applied twice) with the reference cleared.
#include "adapters/postgres/pg_retention_store.h"

#include <ctime>

#include "adapters/postgres/pg_ack_store.h"
#include "adapters/postgres/pg_encoding.h"
#include "domain/failure.h"

namespace exportd {

namespace {

// One constant key of our own among the database's advisory locks (the
// one-bigint form, apart from the ack poller's two-int keys).
constexpr const char* kLockKey = "hashtext('orderflow-exportd retention')::bigint";

// A pass over one kind of row: its table, the date it is pruned by, its id's
// type, and which rows may go at all.
struct RowPass {
  const char* table;
  const char* dated;
  const char* id_type;
  const char* eligible;
  const char* removable;
};

RowPass pass_of(PruneKind kind) {
  switch (kind) {
    case PruneKind::ack_file_records:
      return {"exportd_ack_files", "handled_at", "bigint", "true", "true"};
    case PruneKind::audit_entries:
      return {"audit_log", "created_at", "bigint", "true", "true"};
    case PruneKind::exports:
      // Never PENDING or SENT; never while an archived copy is kept; never
      // the newest export of its draft.
      return {"erp_exports", "coalesce(acked_at, sent_at, updated_at)", "uuid",
              "status IN ('ACKED', 'FAILED') AND archive_key IS NULL",
              "EXISTS (SELECT 1 FROM erp_exports n WHERE n.draft_order_id = e.draft_order_id"
              "        AND (n.created_at, n.id) > (e.created_at, e.id))"};
    default:
      throw Failure(FailureKind::permanent,
                    "'" + std::string(to_string(kind)) + "' is not a kind of row");
  }
}

std::string utc_timestamp(std::chrono::system_clock::time_point at) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(at);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  const size_t length = std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S+00", &utc);
  return {text, length};
}

// "... WHERE {condition} [AND (dated, e.id) > cursor] ORDER BY dated, e.id
// LIMIT $2" over the table aliased `e`: the cursor's date and id as $3 and $4.
// The id is qualified because the select list names its text "id": ordered
// by that text, the order would neither follow the index nor agree with the
// cursor, and a batch would skip rows ("10" < "9").
std::string next_rows(const std::string& dated, const std::string& id_type,
                      const std::string& condition, const PruneCursor& cursor) {
  std::string sql = " WHERE " + condition + " AND " + dated + " < $1::timestamptz";
  if (!cursor.position.empty()) {
    sql.append(" AND (" + dated + ", e.id) > ($3::timestamptz, $4::" + id_type + ")");
  }
  return sql.append(" ORDER BY " + dated + ", e.id LIMIT $2");
}

// The cursor's date and id ("" when the pass starts).
std::pair<std::string, std::string> position(const PruneCursor& cursor) {
  const auto bar = cursor.position.find('|');
  if (bar == std::string::npos) {
    return {"", ""};
  }
  return {cursor.position.substr(0, bar), cursor.position.substr(bar + 1)};
}

pqxx::result select_next(pqxx::transaction_base& tx, const std::string& sql,
                         std::chrono::system_clock::time_point before, size_t limit,
                         const PruneCursor& cursor) {
  const auto [at, id] = position(cursor);
  return cursor.position.empty() ? tx.exec_params(sql, utc_timestamp(before), limit)
                                 : tx.exec_params(sql, utc_timestamp(before), limit, at, id);
}

void advance(PruneCursor& cursor, const pqxx::result& rows) {
  if (!rows.empty()) {
    const auto last = rows[rows.size() - 1];
    cursor.position = last["at"].as<std::string>() + "|" + last["id"].as<std::string>();
  }
}

}  // namespace

PgRetentionStore::PgRetentionStore(std::string database_url) : conn_(std::move(database_url)) {}

bool PgRetentionStore::try_lock() {
  return conn_.run([](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    return tx.exec1(std::string("SELECT pg_try_advisory_lock(") + kLockKey + ")")[0].as<bool>();
  });
}

void PgRetentionStore::unlock() {
  conn_.run([](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    tx.exec(std::string("SELECT pg_advisory_unlock(") + kLockKey + ")");
    return 0;
  });
}

std::vector<AckConnection> PgRetentionStore::active_connections() {
  return conn_.run([](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    return select_active_connections(tx);
  });
}

PruneBatch PgRetentionStore::prune_rows(PruneKind kind,
                                        std::chrono::system_clock::time_point before, size_t limit,
                                        PruneCursor& cursor, bool dry_run) {
  const RowPass pass = pass_of(kind);
  const std::string sql = std::string("SELECT e.id::text AS id, ") + pass.dated + "::text AS at, " +
                          pass.removable + " AS removable FROM " + pass.table + " e" +
                          next_rows(pass.dated, pass.id_type, pass.eligible, cursor);
  return conn_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    const auto rows = select_next(tx, sql, before, limit, cursor);
    std::vector<std::string> ids;
    for (const auto& row : rows) {
      if (row["removable"].as<bool>()) {
        ids.push_back(row["id"].as<std::string>());
      }
    }
    PruneBatch batch{.removed = ids.size(), .done = rows.size() < limit};
    if (!dry_run && !ids.empty()) {
      const std::string array = pg_array(ids);
      if (kind == PruneKind::exports) {
        tx.exec_params(
            "UPDATE exportd_ack_files SET erp_export_id = NULL"
            " WHERE erp_export_id = ANY($1::uuid[])",
            array);
      }
      batch.removed =
          tx.exec_params(std::string("DELETE FROM ") + pass.table +
                             " e WHERE id = ANY($1::" + pass.id_type + "[]) AND " + pass.eligible,
                         array)
              .affected_rows();
    }
    tx.commit();
    advance(cursor, rows);
    return batch;
  });
}

std::vector<ArchivedCopy> PgRetentionStore::archived_copies(
    std::chrono::system_clock::time_point before, size_t limit, PruneCursor& cursor) {
  const std::string sql =
      "SELECT e.id::text AS id, archive_key, sent_at::text AS at FROM erp_exports e" +
      next_rows("sent_at", "uuid", "archive_key IS NOT NULL AND status IN ('ACKED', 'FAILED')",
                cursor);
  return conn_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    const auto rows = select_next(tx, sql, before, limit, cursor);
    std::vector<ArchivedCopy> copies;
    for (const auto& row : rows) {
      copies.push_back({row["id"].as<std::string>(), row["archive_key"].as<std::string>()});
    }
    advance(cursor, rows);
    return copies;
  });
}

void PgRetentionStore::forget_archived_copies(const std::vector<std::string>& export_ids) {
  if (export_ids.empty()) {
    return;
  }
  conn_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    tx.exec_params(
        "UPDATE erp_exports SET archive_key = NULL"
        " WHERE id = ANY($1::uuid[]) AND status IN ('ACKED', 'FAILED')",
        pg_array(export_ids));
    tx.commit();
    return 0;
  });
}

}  // namespace exportd
