// AckStore on PostgreSQL. One instance per poller thread: it owns one
// connection, which also holds the per-connection advisory locks.
#pragma once

#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "adapters/postgres/pg_lazy_connection.h"
#include "ports/ack_store.h"

namespace exportd {

class PgAckStore : public AckStore {
 public:
  explicit PgAckStore(std::string database_url);

  std::vector<AckConnection> active_connections() override;
  bool try_claim_connection(const std::string& connection_id) override;
  void release_connection(const std::string& connection_id) override;
  std::vector<std::optional<AckTarget>> find_exports(const std::string& connection_id,
                                                     const std::vector<AckName>& names) override;
  BatchResult record(const std::string& connection_id,
                     const std::vector<AckFileRecord>& files) override;
  void record_poll(const std::string& connection_id, const std::string& error) override;

 private:
  PgLazyConnection conn_;
};

// The active DROPZONE_JSON_V1 connections, with their sealed secrets.
std::vector<AckConnection> select_active_connections(pqxx::transaction_base& tx);

}  // namespace exportd
