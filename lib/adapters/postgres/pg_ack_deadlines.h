// AckDeadlines on PostgreSQL: one set-based statement per batch, on one
// connection of its own (reopened after a failure).
#pragma once

#include <memory>
#include <string>

#include <pqxx/pqxx>

#include "ports/ack_deadlines.h"

namespace exportd {

class PgAckDeadlines final : public AckDeadlines {
 public:
  explicit PgAckDeadlines(std::string database_url);

  std::optional<std::vector<AckDeadlineChange>> sweep(std::chrono::system_clock::time_point as_of,
                                                      std::chrono::seconds default_timeout,
                                                      int max_exports) override;

 private:
  std::string database_url_;
  std::unique_ptr<pqxx::connection> conn_;
};

}  // namespace exportd
