// RetentionStore on PostgreSQL. One instance per pruner: it owns one
// connection, which also holds the retention lock for the run.
#pragma once

#include <string>

#include "adapters/postgres/pg_lazy_connection.h"
#include "ports/retention_store.h"

namespace exportd {

class PgRetentionStore : public RetentionStore {
 public:
  explicit PgRetentionStore(std::string database_url);

  bool try_lock() override;
  void unlock() override;
  std::vector<AckConnection> active_connections() override;
  PruneBatch prune_rows(PruneKind kind, std::chrono::system_clock::time_point before, size_t limit,
                        PruneCursor& cursor, bool dry_run) override;
  std::vector<ArchivedCopy> archived_copies(std::chrono::system_clock::time_point before,
                                            size_t limit, PruneCursor& cursor) override;
  void forget_archived_copies(const std::vector<std::string>& export_ids) override;

 private:
  PgLazyConnection conn_;
};

}  // namespace exportd
