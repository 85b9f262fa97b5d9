// How many exports wait, for the service status line; also the daemon's
// check that the database answers before it says READY.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <pqxx/pqxx>

namespace exportd {

class PgQueueStats {
 public:
  explicit PgQueueStats(std::string database_url);
  // PENDING exports; nullopt when the database does not answer.
  std::optional<long long> pending();

 private:
  std::string database_url_;
  std::unique_ptr<pqxx::connection> conn_;
};

}  // namespace exportd
