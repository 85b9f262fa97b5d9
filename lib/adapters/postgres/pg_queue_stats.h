// The export queue's figures, read with one connection of its own (reopened
// after a failure); also the daemon's check that the database answers before
// it says READY and on each /healthz.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <type_traits>

#include <pqxx/pqxx>

#include "ports/queue_stats.h"

namespace exportd {

class PgQueueStats final : public QueueStats {
 public:
  explicit PgQueueStats(std::string database_url);
  std::optional<QueueSnapshot> snapshot() override;
  // PENDING exports alone; nullopt when the database does not answer. For
  // the frequent callers (the status line, /healthz): a snapshot counts
  // every export ever made, a quarter of a second at two million.
  std::optional<long long> pending();
  // Client connections the server would still accept from an ordinary role:
  // max_connections less the reserved ones and those in use (this one
  // included); nullopt when the database does not answer.
  std::optional<long long> free_connections();

 private:
  template <typename Read>
  auto read(Read read_in) -> std::optional<std::invoke_result_t<Read, pqxx::transaction_base&>>;

  std::string database_url_;
  std::mutex mutex_;  // one connection, callers on several threads
  std::unique_ptr<pqxx::connection> conn_;
};

// The same figures inside a caller's transaction (the `status` command).
QueueSnapshot read_queue_snapshot(pqxx::transaction_base& tx);

}  // namespace exportd
