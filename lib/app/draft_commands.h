// The operator's draft commands (docs/orderflow-exportd.8.md, "COMMANDS"): approve,
// push, retry, with idempotency keys remembered in an IdempotencyStore when
// there is one and reachable; without it the draft's state rules alone keep a
// repeated push from creating a second export.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "ports/draft_store.h"
#include "ports/idempotency_store.h"

namespace exportd {

struct PushRequest {
  std::string draft_id;
  DraftStatus from = DraftStatus::approved;  // approved for push, error for retry
  std::optional<std::string> actor;
  std::optional<std::string> idempotency_key;
};

struct PushResult {
  std::string export_id;
  bool repeated = false;  // an earlier call with the same key made it
};

// `idempotency` may be null (not configured). Throws Failure: bad_config for
// malformed ids, refused by a state rule, transient when the database is down.
PushResult push_draft(DraftStore& drafts, IdempotencyStore* idempotency, const PushRequest& request,
                      std::chrono::seconds key_ttl);

void approve_draft(DraftStore& drafts, const std::string& draft_id, const std::string& actor);

// "idempotency:{draft_id}:{key}"
std::string idempotency_key(const std::string& draft_id, const std::string& key);

}  // namespace exportd
