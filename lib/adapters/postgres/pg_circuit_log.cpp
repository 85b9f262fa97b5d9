// A connection deleted meanwhile is skipped, not an error: its row would
// have nothing to belong to.
#include "adapters/postgres/pg_circuit_log.h"

#include "adapters/postgres/pg_encoding.h"
#include "adapters/postgres/pg_transaction.h"

namespace exportd {

PgCircuitLog::PgCircuitLog(std::string database_url, std::string reporter)
    : database_url_(std::move(database_url)), reporter_(std::move(reporter)) {}

void PgCircuitLog::publish(const std::vector<CircuitChange>& changes) {
  if (changes.empty()) {
    return;
  }
  std::vector<std::string> ids, states, failures, times;
  for (const auto& c : changes) {
    ids.push_back(c.connection_id);
    states.push_back(to_string(c.state));
    failures.push_back(std::to_string(c.consecutive_failures));
    times.push_back(
        std::to_string(std::chrono::duration<double>(c.changed_at.time_since_epoch()).count()));
  }
  in_transaction(database_url_, [&](pqxx::work& tx) {
    tx.exec_params(
        "INSERT INTO exportd_connection_circuits AS c"
        "       (erp_connection_id, state, consecutive_failures, reported_by, changed_at)"
        " SELECT v.id, v.state, v.failures, $5, to_timestamp(v.epoch)"
        "   FROM unnest($1::uuid[], $2::text[], $3::int[], $4::double precision[])"
        "        AS v(id, state, failures, epoch)"
        "  WHERE EXISTS (SELECT 1 FROM erp_connections x WHERE x.id = v.id)"
        " ON CONFLICT (erp_connection_id) DO UPDATE"
        "   SET state = excluded.state, consecutive_failures = excluded.consecutive_failures,"
        "       reported_by = excluded.reported_by, changed_at = excluded.changed_at",
        pg_array(ids), pg_array(states), pg_array(failures), pg_array(times), reporter_);
    return 0;
  });
}

}  // namespace exportd
