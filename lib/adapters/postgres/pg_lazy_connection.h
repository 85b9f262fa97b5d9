// One database connection a store keeps across calls: opened on first use,
// each call under the daemon's deadline, dropped when it broke (and with it
// any advisory lock it held) so the next call opens a new one.
#pragma once

#include <memory>
#include <string>

#include <pqxx/pqxx>

#include "adapters/postgres/pg_failure.h"
#include "adapters/postgres/pg_session.h"

namespace exportd {

class PgLazyConnection {
 public:
  explicit PgLazyConnection(std::string database_url) : database_url_(std::move(database_url)) {}

  // Runs `fn(pqxx::connection&)`; database errors become Failure.
  template <typename Fn>
  auto run(Fn&& fn) {
    try {
      if (!conn_ || !conn_->is_open()) {
        conn_ = pg_connect(database_url_);
      }
      const auto deadline = pg_deadline(*conn_, pg_call_deadline());
      return fn(*conn_);
    } catch (const pqxx::pqxx_exception& e) {
      if (conn_ && !conn_->is_open()) {
        conn_.reset();  // its advisory locks went with it
      }
      throw pg_failure(e);
    }
  }

 private:
  std::string database_url_;
  std::unique_ptr<pqxx::connection> conn_;
};

}  // namespace exportd
