// CircuitLog on PostgreSQL: one upsert per publication, on a connection of
// its own for each (publications are rare: state changes, a second apart).
#pragma once

#include <string>

#include "ports/circuit_log.h"

namespace exportd {

class PgCircuitLog final : public CircuitLog {
 public:
  // `reporter` names this daemon in the rows it writes (host:pid).
  PgCircuitLog(std::string database_url, std::string reporter);

  void publish(const std::vector<CircuitChange>& changes) override;

 private:
  std::string database_url_;
  std::string reporter_;
};

}  // namespace exportd
