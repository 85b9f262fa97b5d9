// The delivery protocol's database half (docs/architecture.md,
// "Delivery protocol"): claim with SKIP LOCKED and a lease, fix the file name
// at the first attempt, and fence every completion by the lease so a worker
// that lost its claim records nothing.
#include "adapters/postgres/pg_export_queue.h"

#include "adapters/postgres/pg_encoding.h"
#include "adapters/postgres/pg_failure.h"
#include "adapters/postgres/pg_session.h"

#include <map>
#include <set>

#include "domain/failure.h"
#include "domain/file_name.h"

namespace exportd {

namespace {

// A lease as make_interval's seconds.
double seconds(std::chrono::milliseconds lease) {
  return std::chrono::duration<double>(lease).count();
}

Text opt(const pqxx::field& f) {
  return f.is_null() ? Text{} : Text{f.as<std::string>()};
}

Text opt_json(const nlohmann::json& value) {
  return value.is_null() ? Text{} : Text{value.get<std::string>()};
}

// A claim starts at the first connection of a lap that begins after $4: the
// connections with PENDING exports above $4 in id order, then those from the
// first up to $4 itself (it goes last). Each step of the lap is one probe of
// erp_exports_pending_by_connection, and the lap is walked only as far as
// needed (a WITH query is evaluated as far as it is read). A connection
// counts when $5 does not exclude it and it has a due export no racing
// claimer holds: that export is locked here with SKIP LOCKED, so two
// claimers racing for one connection part ways instead of one coming back
// empty. The batch is the first such connection's exports; when that one is
// batchable (a local directory, not in $6), also those of the lap's next
// batchable connections, round-robin: every connection's oldest first, then
// its second, and so on.
constexpr const char* kClaimSql = R"SQL(
WITH RECURSIVE above(id) AS (
  SELECT (SELECT x.erp_connection_id FROM erp_exports x
           WHERE x.status = 'PENDING' AND x.erp_connection_id > $4::uuid
           ORDER BY x.erp_connection_id LIMIT 1)
  UNION ALL
  SELECT (SELECT x.erp_connection_id FROM erp_exports x
           WHERE x.status = 'PENDING' AND x.erp_connection_id > a.id
           ORDER BY x.erp_connection_id LIMIT 1)
    FROM above a WHERE a.id IS NOT NULL),
from_first(id) AS (
  SELECT (SELECT x.erp_connection_id FROM erp_exports x
           WHERE x.status = 'PENDING' ORDER BY x.erp_connection_id LIMIT 1)
  UNION ALL
  SELECT (SELECT x.erp_connection_id FROM erp_exports x
           WHERE x.status = 'PENDING' AND x.erp_connection_id > f.id
           ORDER BY x.erp_connection_id LIMIT 1)
    FROM from_first f WHERE f.id < $4::uuid),
lap AS (
  SELECT id FROM above WHERE id IS NOT NULL
  UNION ALL
  SELECT id FROM from_first WHERE id <= $4::uuid),
firsts AS (
  SELECT lap.id, conn.config ->> 'mode' = 'filesystem' AND lap.id <> ALL($6::uuid[]) AS batchable
    FROM lap
    JOIN erp_connections conn ON conn.id = lap.id
    CROSS JOIN LATERAL (
      SELECT x.id FROM erp_exports x
       WHERE x.erp_connection_id = lap.id AND x.status = 'PENDING' AND x.next_attempt_at <= now()
         AND (x.lease_expires_at IS NULL OR x.lease_expires_at < now())
       ORDER BY x.next_attempt_at
       LIMIT 1
       FOR UPDATE SKIP LOCKED) first_due
   WHERE lap.id <> ALL($5::uuid[])
   LIMIT $2),
lead AS (SELECT id, batchable FROM firsts LIMIT 1),
chosen AS (
  SELECT f.id FROM firsts f, lead WHERE f.id = lead.id OR (lead.batchable AND f.batchable)),
ranked AS (
  SELECT d.id, d.turn
    FROM chosen c
    CROSS JOIN LATERAL (
      SELECT x.id, row_number() OVER (ORDER BY x.next_attempt_at) AS turn
        FROM erp_exports x
       WHERE x.erp_connection_id = c.id AND x.status = 'PENDING' AND x.next_attempt_at <= now()
         AND (x.lease_expires_at IS NULL OR x.lease_expires_at < now())
       ORDER BY x.next_attempt_at
       LIMIT $2) d),
due AS (
  SELECT x.id FROM erp_exports x
   WHERE x.id IN (SELECT id FROM ranked ORDER BY turn LIMIT $2) AND x.status = 'PENDING'
     AND x.next_attempt_at <= now()
     AND (x.lease_expires_at IS NULL OR x.lease_expires_at < now())
   FOR UPDATE SKIP LOCKED)
UPDATE erp_exports e
   SET lease_owner = $1,
       lease_expires_at = now() + make_interval(secs => $3),
       attempts = e.attempts + 1,
       first_attempt_at = coalesce(e.first_attempt_at, now())
  FROM due
 WHERE e.id = due.id
RETURNING e.id, e.draft_order_id, e.org_id, e.erp_connection_id, e.file_name, e.attempts,
          floor(extract(epoch FROM e.first_attempt_at))::bigint AS first_attempt_epoch
)SQL";

// Below every uuid: a lap after it starts at the first connection.
constexpr const char* kBeforeEveryConnection = "00000000-0000-0000-0000-000000000000";

// One statement, so one snapshot: the header and the lines of a document are
// the same committed version of the order, whatever edits it meanwhile.
constexpr const char* kSourceSql = R"SQL(
SELECT e.id AS export_id, o.slug AS org_slug,
       to_char(d.approved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS approved_at,
       d.external_order_number,
       to_char(d.order_date, 'YYYY-MM-DD') AS order_date,
       to_char(d.requested_delivery_date, 'YYYY-MM-DD') AS requested_delivery_date,
       d.currency::text AS currency, d.notes,
       to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created_at,
       c.id AS customer_id, c.erp_customer_number, c.name AS customer_name,
       c.email AS customer_email, c.phone AS customer_phone,
       c.billing_address::text AS billing_address, c.shipping_address::text AS shipping_address,
       CASE WHEN conn.is_active AND conn.org_id = e.org_id THEN conn.config::text END
         AS connection_config,
       encode(conn.secret, 'hex') AS connection_secret,
       (SELECT json_agg(json_build_object('line_no', l.line_no, 'internal_sku', l.internal_sku,
                                          'customer_sku', l.customer_sku,
                                          'description', l.description, 'qty', l.qty::text,
                                          'uom', l.uom, 'unit_price', l.unit_price::text)
                        ORDER BY l.line_no)
          FROM draft_order_lines l
         WHERE l.draft_order_id = e.draft_order_id)::text AS lines
  FROM erp_exports e
  JOIN draft_orders d ON d.id = e.draft_order_id
  JOIN orgs o ON o.id = e.org_id
  LEFT JOIN customers c ON c.id = d.customer_id
  LEFT JOIN erp_connections conn ON conn.id = e.erp_connection_id
 WHERE e.id = ANY($1::uuid[])
)SQL";

}  // namespace

PgExportQueue::PgExportQueue(std::string database_url, std::string lease_owner)
    : database_url_(std::move(database_url)), lease_owner_(std::move(lease_owner)) {}

pqxx::connection& PgExportQueue::connection() {
  if (!conn_ || !conn_->is_open()) {
    conn_ = pg_connect(database_url_);
  }
  return *conn_;
}

// The lease makes a retry after a transient failure safe; a connection that
// failed transiently is opened afresh, in case it is the one in trouble.
template <typename Fn>
auto PgExportQueue::with_transaction(Fn&& fn) {
  try {
    pqxx::connection& conn = connection();
    const auto deadline = pg_deadline(conn, pg_call_deadline());
    pqxx::work tx(conn);
    auto result = fn(tx);
    tx.commit();
    return result;
  } catch (const pqxx::pqxx_exception& e) {
    Failure failure = pg_failure(e);
    if (failure.kind() == FailureKind::transient) {
      conn_.reset();
    }
    throw failure;
  }
}

std::vector<ClaimedExport> PgExportQueue::claim(const ClaimRequest& request) {
  const std::string& after =
      request.after_connection.empty() ? kBeforeEveryConnection : request.after_connection;
  return with_transaction([&](pqxx::work& tx) {
    std::vector<ClaimedExport> claimed;
    std::vector<std::string> ids, unnamed_ids, new_names;
    for (const auto& row :
         tx.exec_params(kClaimSql, lease_owner_, static_cast<long long>(request.max),
                        seconds(request.lease), after, pg_array(request.excluded_connections),
                        pg_array(request.unbatchable_connections))) {
      ClaimedExport c;
      c.lease_owner = lease_owner_;
      c.export_id = row["id"].as<std::string>();
      c.draft_order_id = row["draft_order_id"].as<std::string>();
      c.org_id = row["org_id"].as<std::string>();
      c.connection_id = row["erp_connection_id"].as<std::string>();
      c.attempts = row["attempts"].as<int>();
      if (row["file_name"].is_null()) {
        const auto first =
            std::chrono::system_clock::from_time_t(row["first_attempt_epoch"].as<std::time_t>());
        c.file_name = export_file_name(c.draft_order_id, c.export_id, first);
        unnamed_ids.push_back(c.export_id);
        new_names.push_back(c.file_name);
      } else {
        c.file_name = row["file_name"].as<std::string>();
      }
      ids.push_back(c.export_id);
      claimed.push_back(std::move(c));
    }
    if (claimed.empty()) {
      return claimed;
    }
    if (!unnamed_ids.empty()) {
      tx.exec_params(
          "UPDATE erp_exports e SET file_name = v.name"
          "  FROM unnest($1::uuid[], $2::text[]) AS v(id, name)"
          " WHERE e.id = v.id AND e.file_name IS NULL",
          pg_array(unnamed_ids), pg_array(new_names));
    }
    std::map<std::string, ClaimedExport*> by_id;
    for (auto& c : claimed) {
      by_id[c.export_id] = &c;
    }
    for (const auto& row : tx.exec_params(kSourceSql, pg_array(ids))) {
      ClaimedExport& c = *by_id.at(row["export_id"].as<std::string>());
      ExportSource& s = c.source;
      s.export_id = c.export_id;
      s.draft_order_id = c.draft_order_id;
      s.org_slug = row["org_slug"].as<std::string>();
      s.approved_at = opt(row["approved_at"]);
      s.external_order_number = opt(row["external_order_number"]);
      s.order_date = opt(row["order_date"]);
      s.requested_delivery_date = opt(row["requested_delivery_date"]);
      s.currency = opt(row["currency"]);
      s.notes = opt(row["notes"]);
      s.created_at = row["created_at"].as<std::string>();
      if (!row["customer_id"].is_null()) {
        s.customer = CustomerRow{row["customer_id"].as<std::string>(),
                                 opt(row["erp_customer_number"]),
                                 row["customer_name"].as<std::string>(),
                                 opt(row["customer_email"]),
                                 opt(row["customer_phone"]),
                                 opt(row["billing_address"]),
                                 opt(row["shipping_address"])};
      }
      if (!row["connection_config"].is_null()) {
        c.connection_config = row["connection_config"].as<std::string>();
        if (!row["connection_secret"].is_null()) {
          c.connection_secret = hex_decode(row["connection_secret"].as<std::string>());
        }
      }
      if (!row["lines"].is_null()) {
        for (const auto& line : nlohmann::json::parse(row["lines"].as<std::string>())) {
          s.lines.push_back({line["line_no"].get<std::int64_t>(), opt_json(line["internal_sku"]),
                             opt_json(line["customer_sku"]), opt_json(line["description"]),
                             line["qty"].get<std::string>(), opt_json(line["uom"]),
                             opt_json(line["unit_price"])});
        }
      }
    }
    return claimed;
  });
}

size_t PgExportQueue::renew(const std::vector<LeaseHolder>& leases,
                            std::chrono::milliseconds lease) {
  std::vector<std::string> ids, owners;
  for (const auto& l : leases) {
    ids.push_back(l.export_id);
    owners.push_back(l.owner);
  }
  return with_transaction([&](pqxx::work& tx) {
    return tx
        // SKIP LOCKED: a row locked now is being recorded or released by its
        // holder; waiting for it would tie every other lease to that one.
        .exec_params(
            "UPDATE erp_exports e SET lease_expires_at = now() + make_interval(secs => $3)"
            "  FROM (SELECT x.id FROM erp_exports x"
            "          JOIN unnest($1::uuid[], $2::text[]) AS l(id, owner)"
            "            ON x.id = l.id AND x.lease_owner = l.owner"
            "         WHERE x.status = 'PENDING'"
            "           FOR UPDATE OF x SKIP LOCKED) held"
            " WHERE e.id = held.id",
            pg_array(ids), pg_array(owners), seconds(lease))
        .affected_rows();
  });
}

std::vector<std::string> PgExportQueue::record_sent(const std::vector<DeliveryRecord>& deliveries) {
  if (deliveries.empty()) {
    return {};
  }
  std::vector<std::string> ids, paths, digests, sizes, archive_keys;
  for (const auto& d : deliveries) {
    ids.push_back(d.export_id);
    paths.push_back(d.dropzone_path);
    digests.push_back(d.sha256_hex);
    sizes.push_back(std::to_string(d.byte_size));
    archive_keys.push_back(d.archive_key);
  }
  return with_transaction([&](pqxx::work& tx) {
    std::set<std::string> sent;
    std::vector<std::string> sent_drafts;
    for (const auto& row : tx.exec_params(
             "UPDATE erp_exports e"
             "   SET status = 'SENT', dropzone_path = v.path, sha256 = v.sha256,"
             "       byte_size = v.size, sent_at = now(), error_json = NULL,"
             "       archive_key = NULLIF(v.archive_key, ''),"
             "       lease_owner = NULL, lease_expires_at = NULL"
             "  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $6::text[])"
             "       AS v(id, path, sha256, size, archive_key)"
             " WHERE e.id = v.id AND e.status = 'PENDING' AND e.lease_owner = $5"
             " RETURNING e.id, e.draft_order_id",
             pg_array(ids), pg_array(paths), pg_array(digests), pg_array(sizes), lease_owner_,
             pg_array(archive_keys))) {
      sent.insert(row["id"].as<std::string>());
      sent_drafts.push_back(row["draft_order_id"].as<std::string>());
    }
    if (!sent.empty()) {
      const std::vector<std::string> sent_ids(sent.begin(), sent.end());
      // Rows queued by plain SQL may still say APPROVED: step through PUSHING,
      // the only road the state rules allow to PUSHED.
      tx.exec_params(
          "UPDATE draft_orders SET status = 'PUSHING'"
          " WHERE id = ANY($1::uuid[]) AND status = 'APPROVED'",
          pg_array(sent_drafts));
      tx.exec_params(
          "UPDATE draft_orders SET status = 'PUSHED'"
          " WHERE id = ANY($1::uuid[]) AND status = 'PUSHING'",
          pg_array(sent_drafts));
      tx.exec_params(
          "INSERT INTO audit_log (org_id, action, entity_type, entity_id, details)"
          " SELECT org_id, 'DRAFT_PUSHED', 'draft_order', draft_order_id,"
          "        jsonb_build_object('export_id', id, 'file_name', file_name,"
          "          'dropzone_path', dropzone_path, 'sha256', sha256, 'byte_size', byte_size,"
          "          'attempts', attempts)"
          "   FROM erp_exports WHERE id = ANY($1::uuid[])",
          pg_array(sent_ids));
    }
    std::vector<std::string> lost;
    for (const auto& id : ids) {
      if (!sent.contains(id)) {
        lost.push_back(id);
      }
    }
    return lost;
  });
}

void PgExportQueue::record_failure(const FailureRecord& failure) {
  with_transaction([&](pqxx::work& tx) {
    if (failure.retry_after) {
      tx.exec_params(
          "UPDATE erp_exports"
          "   SET next_attempt_at = now() + make_interval(secs => $3), error_json = $4::jsonb,"
          "       lease_owner = NULL, lease_expires_at = NULL"
          " WHERE id = $1 AND status = 'PENDING' AND lease_owner = $2",
          failure.export_id, lease_owner_,
          static_cast<double>(failure.retry_after->count()) / 1000.0, failure.error.dump());
      return 0;
    }
    const auto rows = tx.exec_params(
        "UPDATE erp_exports"
        "   SET status = 'FAILED', error_json = $3::jsonb, lease_owner = NULL,"
        "       lease_expires_at = NULL"
        " WHERE id = $1 AND status = 'PENDING' AND lease_owner = $2"
        " RETURNING draft_order_id, org_id",
        failure.export_id, lease_owner_, failure.error.dump());
    if (rows.empty()) {
      return 0;
    }
    const auto draft = rows[0]["draft_order_id"].as<std::string>();
    tx.exec_params(
        "UPDATE draft_orders SET status = 'PUSHING' WHERE id = $1 AND status = 'APPROVED'", draft);
    tx.exec_params("UPDATE draft_orders SET status = 'ERROR' WHERE id = $1 AND status = 'PUSHING'",
                   draft);
    tx.exec_params(
        "INSERT INTO audit_log (org_id, action, entity_type, entity_id, details)"
        " VALUES ($1, 'DRAFT_PUSH_FAILED', 'draft_order', $2,"
        "         jsonb_build_object('export_id', $3::uuid, 'error', $4::jsonb))",
        rows[0]["org_id"].as<std::string>(), draft, failure.export_id, failure.error.dump());
    return 0;
  });
}

void PgExportQueue::postpone(const std::string& export_id, std::chrono::milliseconds delay) {
  with_transaction([&](pqxx::work& tx) {
    tx.exec_params(
        "UPDATE erp_exports"
        "   SET attempts = greatest(attempts - 1, 0),"
        "       next_attempt_at = now() + make_interval(secs => $3::double precision / 1000),"
        "       lease_owner = NULL, lease_expires_at = NULL"
        " WHERE id = $1 AND status = 'PENDING' AND lease_owner = $2",
        export_id, lease_owner_, delay.count());
    return 0;
  });
}

}  // namespace exportd
