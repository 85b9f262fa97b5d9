// One short transaction on a fresh connection, for commands that run once:
// database errors become Failure(transient) with the server's words.
#pragma once

#include <pqxx/pqxx>
#include <string>

#include "domain/failure.h"

namespace exportd {

template <typename Fn>
auto in_transaction(const std::string& database_url, Fn&& fn) {
  try {
    pqxx::connection conn(database_url);
    pqxx::work tx(conn);
    auto result = fn(tx);
    tx.commit();
    return result;
  } catch (const pqxx::broken_connection& e) {
    throw Failure(FailureKind::transient, "cannot reach the database: " + std::string(e.what()));
  } catch (const pqxx::sql_error& e) {
    throw Failure(FailureKind::transient, "database error: " + std::string(e.what()));
  }
}

}  // namespace exportd
