#include "adapters/postgres/pg_queue_stats.h"

namespace exportd {

PgQueueStats::PgQueueStats(std::string database_url) : database_url_(std::move(database_url)) {}

std::optional<long long> PgQueueStats::pending() {
  try {
    if (!conn_ || !conn_->is_open()) {
      conn_ = std::make_unique<pqxx::connection>(database_url_);
    }
    pqxx::nontransaction tx(*conn_);
    return tx.exec1("SELECT count(*) FROM erp_exports WHERE status = 'PENDING'")[0].as<long long>();
  } catch (const std::exception&) {
    conn_.reset();
    return std::nullopt;
  }
}

}  // namespace exportd
