// Port: finding the SENT exports whose ERP has not answered in time and
// acting on them as their connections say (PostgreSQL in production).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/connection_settings.h"

namespace exportd {

// One export a sweep found overdue, and what it did about it.
struct AckDeadlineChange {
  std::string export_id;
  std::string org;  // the org's slug
  std::string connection_id;
  std::string sent_at;  // RFC 3339 UTC
  std::int64_t ack_timeout_s = 0;
  AckTimeoutAction action = AckTimeoutAction::alert;

  bool operator==(const AckDeadlineChange&) const = default;
};

class AckDeadlines {
 public:
  virtual ~AckDeadlines() = default;

  // In one short transaction, at most `max_exports` exports that were SENT
  // more than their connection's ack_timeout_s (`default_timeout` where the
  // connection sets none; 0: never) before `as_of` and are neither answered
  // nor found overdue before: "alert" marks them overdue with audit
  // EXPORT_ACK_OVERDUE, the export stays SENT; "fail" makes them FAILED
  // (error_json code ACK_TIMEOUT), their PUSHED drafts ERROR, with audit
  // EXPORT_ACK_TIMEOUT. Exports another transaction holds are left for a
  // later sweep. One sweeper at a time across all hosts: nullopt when
  // another holds the sweep (nothing was done). Throws Failure(transient)
  // when the store is unreachable.
  virtual std::optional<std::vector<AckDeadlineChange>> sweep(
      std::chrono::system_clock::time_point as_of, std::chrono::seconds default_timeout,
      int max_exports) = 0;
};

}  // namespace exportd
