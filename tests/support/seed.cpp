#include "tests/support/seed.h"

#include <pqxx/pqxx>

namespace exportd::testing {

SeededOrg seed_org(const std::string& database_url, const std::string& slug,
                   const std::string& export_path, const std::string& ack_path) {
  pqxx::connection conn(database_url);
  pqxx::work tx(conn);
  SeededOrg org;
  org.slug = slug;
  org.org_id = tx.exec_params1("INSERT INTO orgs (slug, name) VALUES ($1, $2) RETURNING id", slug,
                               "Org " + slug)[0]
                   .as<std::string>();
  const std::string config = R"({"mode":"filesystem","export_path":")" + export_path +
                             R"(","ack_path":")" + ack_path + R"(","atomic_write":true})";
  org.connection_id = tx.exec_params1(
                            "INSERT INTO erp_connections (org_id, connector_type, config)"
                            " VALUES ($1, 'DROPZONE_JSON_V1', $2::jsonb) RETURNING id",
                            org.org_id, config)[0]
                          .as<std::string>();
  org.customer_id =
      tx.exec_params1(
            "INSERT INTO customers (org_id, erp_customer_number, name, email, billing_address)"
            " VALUES ($1, '4711', 'ACME \"Quoted\" GmbH', 'orders@acme.example',"
            "         '{\"street\": \"Hauptstr. 1\", \"city\": \"Berlin\"}') RETURNING id",
            org.org_id)[0]
          .as<std::string>();
  tx.commit();
  return org;
}

std::vector<std::string> seed_exports(const std::string& database_url, const SeededOrg& org,
                                      int count, int lines) {
  pqxx::connection conn(database_url);
  pqxx::work tx(conn);
  tx.exec_params(
      "WITH drafts AS ("
      "  INSERT INTO draft_orders (org_id, customer_id, status, external_order_number,"
      "                            order_date, currency, notes, approved_at)"
      "  SELECT $1, $2, 'PUSHING', 'PO-' || g, DATE '2025-12-20', 'EUR', 'Ünïcode \\ \"note\"',"
      "         TIMESTAMPTZ '2025-12-26 10:00:00Z'"
      "    FROM generate_series(1, $4) g RETURNING id),"
      " line_rows AS ("
      "  INSERT INTO draft_order_lines (draft_order_id, line_no, internal_sku, description, qty,"
      "                                 uom, unit_price)"
      "  SELECT d.id, l, 'SKU-' || l, 'Widget ' || l, 10, 'EA', 1.23"
      "    FROM drafts d, generate_series(1, $5) l)"
      " INSERT INTO erp_exports (org_id, erp_connection_id, draft_order_id)"
      " SELECT $1, $3, id FROM drafts",
      org.org_id, org.customer_id, org.connection_id, count, lines);
  std::vector<std::string> ids;
  for (const auto& row : tx.exec_params(
           "SELECT id FROM erp_exports WHERE org_id = $1 AND status = 'PENDING'", org.org_id)) {
    ids.push_back(row[0].as<std::string>());
  }
  tx.commit();
  return ids;
}

void mark_sent(const std::string& database_url, const std::vector<std::string>& export_ids) {
  pqxx::connection conn(database_url);
  pqxx::work tx(conn);
  for (const auto& id : export_ids) {
    tx.exec_params(
        "UPDATE erp_exports SET status = 'SENT', sent_at = now(),"
        "       file_name = coalesce(file_name, 'sales_order_' || id || '.json')"
        " WHERE id = $1",
        id);
    tx.exec_params(
        "UPDATE draft_orders SET status = 'PUSHED'"
        " WHERE id = (SELECT draft_order_id FROM erp_exports WHERE id = $1)",
        id);
  }
  tx.commit();
}

std::string query_value(const std::string& database_url, const std::string& sql) {
  pqxx::connection conn(database_url);
  pqxx::nontransaction tx(conn);
  const auto result = tx.exec(sql);
  if (result.empty() || result[0][0].is_null()) {
    return "";
  }
  return result[0][0].as<std::string>();
}

}  // namespace exportd::testing
