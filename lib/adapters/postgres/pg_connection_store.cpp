// Secrets cross the wire hex-encoded (encode/decode in SQL), which keeps
// bytea handling out of libpqxx's version differences.
#include "adapters/postgres/pg_connection_store.h"

#include <pqxx/pqxx>

#include "adapters/postgres/pg_encoding.h"
#include "adapters/postgres/pg_transaction.h"
#include "domain/failure.h"

namespace exportd {

StoredConnection stored_connection(const pqxx::row& row) {
  return {row["id"].as<std::string>(), nlohmann::json::parse(row["config"].as<std::string>()),
          row["secret"].is_null() ? "" : hex_decode(row["secret"].as<std::string>()),
          row["is_active"].as<bool>()};
}

namespace {

[[noreturn]] void no_org(const std::string& slug) {
  throw Failure(FailureKind::bad_config, "there is no org with slug '" + slug + "'");
}

}  // namespace

PgConnectionStore::PgConnectionStore(std::string database_url)
    : database_url_(std::move(database_url)) {}

StoredConnection PgConnectionStore::save(const std::string& org_slug, const nlohmann::json& config,
                                         const std::optional<std::string>& sealed_secret) {
  return in_transaction(database_url_, [&](pqxx::work& tx) {
    const auto rows = tx.exec_params(
        "INSERT INTO erp_connections (org_id, connector_type, config, secret, is_active)"
        " SELECT o.id, 'DROPZONE_JSON_V1', $2::jsonb, decode($3, 'hex'), true"
        "   FROM orgs o WHERE o.slug = $1"
        " ON CONFLICT (org_id, connector_type) DO UPDATE"
        "   SET config = EXCLUDED.config, is_active = true,"
        "       secret = CASE WHEN $4 THEN EXCLUDED.secret ELSE erp_connections.secret END"
        " RETURNING id, config::text AS config, encode(secret, 'hex') AS secret, is_active",
        org_slug, config.dump(), sealed_secret ? hex_encode(*sealed_secret) : std::string(),
        sealed_secret.has_value());
    if (rows.empty()) {
      no_org(org_slug);
    }
    return stored_connection(rows[0]);
  });
}

StoredConnection PgConnectionStore::load(const std::string& org_slug) {
  return in_transaction(database_url_, [&](pqxx::work& tx) {
    const auto rows = tx.exec_params(
        "SELECT c.id, c.config::text AS config, encode(c.secret, 'hex') AS secret,"
        "       c.is_active"
        "  FROM orgs o LEFT JOIN erp_connections c"
        "    ON c.org_id = o.id AND c.connector_type = 'DROPZONE_JSON_V1'"
        " WHERE o.slug = $1",
        org_slug);
    if (rows.empty()) {
      no_org(org_slug);
    }
    if (rows[0]["id"].is_null()) {
      throw Failure(FailureKind::bad_config,
                    "org '" + org_slug + "' has no connection (create one with 'connection set')");
    }
    return stored_connection(rows[0]);
  });
}

void PgConnectionStore::record_test(const std::string& connection_id, bool success) {
  in_transaction(database_url_, [&](pqxx::work& tx) {
    tx.exec_params(
        "UPDATE erp_connections SET last_test_at = now(), last_test_success = $2 WHERE id = $1",
        connection_id, success);
    return 0;
  });
}

}  // namespace exportd
