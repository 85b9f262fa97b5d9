// Port: the operator's commands on drafts and the queue's figures
// (Postgres in production). State rules are enforced by the store, so two
// concurrent commands cannot both pass them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace exportd {

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
  virtual std::string enqueue(const std::string& draft_id, const std::string& from,
                              const std::optional<std::string>& actor) = 0;

  // The figures of `status`: exports per status, the oldest PENDING age,
  // FAILED in the last 24 h, each connection's last ack poll.
  virtual nlohmann::ordered_json status_report() = 0;
};

}  // namespace exportd
