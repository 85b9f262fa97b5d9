// Port: how the export queue looks right now, for the service status line,
// the metrics and the health check. A query away from the database.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "domain/status.h"

namespace exportd {

// One connection's SENT exports found overdue and still unanswered.
struct AckOverdue {
  long long exports = 0;
  // Since the oldest of them was sent; nullopt when there is none.
  std::optional<std::chrono::seconds> oldest_age;

  bool operator==(const AckOverdue&) const = default;
};

struct QueueSnapshot {
  // Every export status, those with no exports included (as 0).
  std::map<ExportStatus, long long> exports_by_status;
  // Since the oldest PENDING export was created; nullopt when none waits.
  std::optional<std::chrono::seconds> oldest_pending_age;
  // By connection id, every connection of the daemon's included.
  std::map<std::string, AckOverdue> ack_overdue;
};

class QueueStats {
 public:
  virtual ~QueueStats() = default;
  // nullopt when the database does not answer. Safe from any thread.
  virtual std::optional<QueueSnapshot> snapshot() = 0;
};

}  // namespace exportd
