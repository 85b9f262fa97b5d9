// What `status` prints: the figures of a StatusReport as JSON for scripts
// (`status --json`) or as text for a person.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "ports/draft_store.h"

namespace exportd {

// Keys and their order are an interface: {"exports": {"PENDING": n, ...every
// status in the order an export goes through them}, "oldest_pending_age_s":
// n or null, "failed_last_24h": n, "connections": [{"org", "connection_id",
// "active", "last_ack_poll_at", "last_ack_poll_error", "ack_overdue",
// "oldest_ack_overdue_age_s", "next_delivery_window", "in_flight",
// "circuit"}]}, where "next_delivery_window" is null for a connection
// without a delivery_schedule, else {"at": the start of the current or next
// matching minute as of `now` (ISO 8601 UTC), "timezone", "cron"}; and
// "circuit" is null until a daemon published the connection's delivery
// state, else {"state", "consecutive_failures", "since", "reported_by"}.
nlohmann::ordered_json status_report_json(const StatusReport& report,
                                          std::chrono::system_clock::time_point now);

// Several lines, each ending in a line break.
std::string status_report_text(const StatusReport& report,
                               std::chrono::system_clock::time_point now);

}  // namespace exportd
