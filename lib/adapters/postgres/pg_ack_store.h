// AckStore on PostgreSQL. One instance per poller thread: it owns one
// connection, which also holds the per-connection advisory locks.
#pragma once

#include <memory>
#include <string>

#include <pqxx/pqxx>

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
  template <typename Fn>
  auto run(Fn&& fn);

  std::string database_url_;
  std::unique_ptr<pqxx::connection> conn_;
};

}  // namespace exportd
