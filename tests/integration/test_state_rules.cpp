// The state rules have one source, the database's triggers
// (migrations/0001_schema.sql), so they guard every writer: the daemon, the
// application, an operator's SQL. Every (from, to) pair is tried on a real
// database against the table of docs/architecture.md, "State rules".
#include <catch2/catch.hpp>
#include <pqxx/pqxx>
#include <set>
#include <utility>

#include "adapters/postgres/pg_failure.h"
#include "tests/support/pg_cluster.h"
#include "tests/support/seed.h"

using namespace exportd;
using namespace exportd::testing;

namespace {

using Edge = std::pair<std::string, std::string>;

// Whether the database lets a status change through. A refusal must be the
// trigger's check_violation, which the adapter reports as permanent.
bool changes(const std::string& url, const std::string& table, const std::string& id,
             const std::string& to) {
  pqxx::connection conn(url);
  pqxx::work tx(conn);
  try {
    tx.exec0("UPDATE " + table + " SET status = " + tx.quote(to) + " WHERE id = " + tx.quote(id));
    tx.commit();
    return true;
  } catch (const pqxx::check_violation& e) {
    const Failure failure = pg_failure(e);
    CHECK(failure.kind() == FailureKind::permanent);
    CHECK_THAT(failure.what(),
               Catch::Contains("SQLSTATE 23514") && Catch::Contains("cannot go from"));
    return false;
  }
}

}  // namespace

TEST_CASE("drafts change status only along the documented edges", "[state]") {
  const std::string url = PgCluster::shared().fresh_database();
  const auto org = seed_org(url, "acme", "/tmp/exportd-none/exports", "/tmp/exportd-none/acks");
  const std::string statuses[] = {"NEEDS_REVIEW", "READY",  "APPROVED",
                                  "PUSHING",      "PUSHED", "ERROR"};
  const std::set<Edge> allowed = {{"READY", "APPROVED"}, {"APPROVED", "PUSHING"},
                                  {"PUSHING", "PUSHED"}, {"PUSHING", "ERROR"},
                                  {"PUSHED", "ERROR"},   {"ERROR", "PUSHING"}};
  for (const auto& from : statuses) {
    for (const auto& to : statuses) {
      INFO(from << " -> " << to);
      const auto id = query_value(url, "INSERT INTO draft_orders (org_id, status) VALUES ('" +
                                           org.org_id + "', '" + from + "') RETURNING id");
      // Setting the status a row already has is no transition.
      CHECK(changes(url, "draft_orders", id, to) == (from == to || allowed.contains({from, to})));
      CHECK(query_value(url, "SELECT status FROM draft_orders WHERE id = '" + id + "'") ==
            (from == to || allowed.contains({from, to}) ? to : from));
    }
  }
}

TEST_CASE("exports change status only along the documented edges", "[state]") {
  const std::string url = PgCluster::shared().fresh_database();
  const auto org = seed_org(url, "acme", "/tmp/exportd-none/exports", "/tmp/exportd-none/acks");
  const auto draft = query_value(url, "INSERT INTO draft_orders (org_id, status) VALUES ('" +
                                          org.org_id + "', 'PUSHING') RETURNING id");
  const std::string statuses[] = {"PENDING", "SENT", "ACKED", "FAILED"};
  // ACKED and FAILED are final: a retry makes a new export.
  const std::set<Edge> allowed = {
      {"PENDING", "SENT"}, {"PENDING", "FAILED"}, {"SENT", "ACKED"}, {"SENT", "FAILED"}};
  for (const auto& from : statuses) {
    for (const auto& to : statuses) {
      INFO(from << " -> " << to);
      const auto id =
          query_value(url,
                      "INSERT INTO erp_exports (org_id, erp_connection_id, draft_order_id, status)"
                      " VALUES ('" +
                          org.org_id + "', '" + org.connection_id + "', '" + draft + "', '" + from +
                          "') RETURNING id");
      CHECK(changes(url, "erp_exports", id, to) == (from == to || allowed.contains({from, to})));
    }
  }
}
