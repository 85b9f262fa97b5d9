// Port: the operator's commands on drafts and the queue's figures
// (Postgres in production). State rules are enforced by the store, so two
// concurrent commands cannot both pass them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "domain/status.h"
#include "ports/queue_stats.h"

namespace exportd {

// One connection's line in `status`.
struct ConnectionReport {
  std::string org;  // the org's slug
  std::string connection_id;
  bool active = false;
  std::optional<std::string> last_ack_poll_at;     // RFC 3339 UTC; nullopt: never polled
  std::optional<std::string> last_ack_poll_error;  // nullopt: the last poll worked
  AckOverdue ack_overdue;                          // SENT exports past their ack deadline
  std::string config;       // its stored settings (erp_connections.config), as JSON text
  long long in_flight = 0;  // claimed by a worker of any daemon, lease running
  // Its delivery state as a daemon last published it; nullopt: never.
  struct Circuit {
    std::string state;  // "closed", "open", "half_open"
    int consecutive_failures = 0;
    std::string since;  // RFC 3339 UTC
    std::string reported_by;
  };
  std::optional<Circuit> circuit;
};

// The figures of `status`.
struct StatusReport {
  QueueSnapshot queue;
  long long failed_last_24h = 0;
  std::vector<ConnectionReport> connections;  // by org slug
};

class DraftStore {
 public:
  virtual ~DraftStore() = default;

  // READY -> APPROVED with audit DRAFT_APPROVED. Throws Failure(refused)
  // naming the draft's status when it is not READY, Failure(bad_config) for
  // an unknown draft.
  virtual void approve(const std::string& draft_id, const std::string& actor) = 0;

  // `from` (APPROVED for push, ERROR for retry) -> PUSHING and one new
  // PENDING export for the org's active connection, audit
  // DRAFT_PUSH_REQUESTED. Returns the export id. Throws Failure(refused) when
  // the draft is not in `from` or its org has no active connection.
  virtual std::string enqueue(const std::string& draft_id, DraftStatus from,
                              const std::optional<std::string>& actor) = 0;

  // The figures of `status`: exports per status, the oldest PENDING age,
  // FAILED in the last 24 h, each connection's last ack poll.
  virtual StatusReport status_report() = 0;
};

}  // namespace exportd
