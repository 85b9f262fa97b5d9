// ConnectionStore on PostgreSQL: one short transaction per call.
#pragma once

#include <string>

#include "ports/connection_store.h"

namespace pqxx {
class row;
}  // namespace pqxx

namespace exportd {

// A connection from a row with the columns id, config (text), secret (hex)
// and is_active.
StoredConnection stored_connection(const pqxx::row& row);

class PgConnectionStore : public ConnectionStore {
 public:
  explicit PgConnectionStore(std::string database_url);

  StoredConnection save(const std::string& org_slug, const nlohmann::json& config,
                        const std::optional<std::string>& sealed_secret) override;
  StoredConnection load(const std::string& org_slug) override;
  void record_test(const std::string& connection_id, bool success) override;

 private:
  std::string database_url_;
};

}  // namespace exportd
