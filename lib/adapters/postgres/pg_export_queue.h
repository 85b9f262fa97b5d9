// ExportQueue on PostgreSQL. One instance per worker: it owns one connection
// and reconnects lazily after the database went away.
#pragma once

#include <memory>
#include <string>

#include <pqxx/pqxx>

#include "ports/export_queue.h"

namespace exportd {

class PgExportQueue : public ExportQueue {
 public:
  // `lease_owner` names this worker in erp_exports.lease_owner; it must be
  // unique across workers and hosts.
  PgExportQueue(std::string database_url, std::string lease_owner);

  std::vector<ClaimedExport> claim(const ClaimRequest& request) override;
  size_t renew(const std::vector<LeaseHolder>& leases, std::chrono::milliseconds lease) override;
  std::vector<std::string> record_sent(const std::vector<DeliveryRecord>& deliveries) override;
  void record_failure(const FailureRecord& failure) override;
  void postpone(const std::string& export_id, std::chrono::milliseconds delay) override;

 private:
  pqxx::connection& connection();
  template <typename Fn>
  auto with_transaction(Fn&& fn);

  std::string database_url_;
  std::string lease_owner_;
  std::unique_ptr<pqxx::connection> conn_;
};

}  // namespace exportd
