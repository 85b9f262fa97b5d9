// One short transaction on a fresh connection, for commands that run once:
// database errors become Failure, classified by pg_failure.
#pragma once

#include <pqxx/pqxx>
#include <string>

#include "adapters/postgres/pg_failure.h"
#include "adapters/postgres/pg_session.h"

namespace exportd {

template <typename Fn>
auto in_transaction(const std::string& database_url, Fn&& fn) {
  try {
    const auto conn = pg_connect(database_url);
    const auto deadline = pg_deadline(*conn, pg_call_deadline());
    pqxx::work tx(*conn);
    auto result = fn(tx);
    tx.commit();
    return result;
  } catch (const pqxx::pqxx_exception& e) {
    throw pg_failure(e);
  }
}

}  // namespace exportd
