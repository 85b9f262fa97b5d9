// approve, push and retry: the idempotency store first when there is one,
// the draft's state rules always.
#include "app/draft_commands.h"

#include "domain/failure.h"
#include "domain/uuid.h"
#include "logging/logging.h"

namespace exportd {

namespace {

// The remembered export id, or nullopt; a store that cannot be reached is
// dropped for the rest of the command (the state rules still hold).
std::optional<std::string> remembered(IdempotencyStore*& store, const std::string& key) {
  if (store == nullptr) {
    return std::nullopt;
  }
  try {
    return store->get(key);
  } catch (const Failure& e) {
    log_event(Level::warn, "idempotency store unavailable; the draft's state decides",
              {{"error", e.what()}});
    store = nullptr;
    return std::nullopt;
  }
}

}  // namespace

std::string idempotency_key(const std::string& draft_id, const std::string& key) {
  return "idempotency:" + draft_id + ":" + key;
}

PushResult push_draft(DraftStore& drafts, IdempotencyStore* idempotency, const PushRequest& request,
                      std::chrono::seconds key_ttl) {
  check_uuid("draft id", request.draft_id);
  if (request.actor) {
    check_uuid("actor", *request.actor);
  }
  if (!request.idempotency_key) {
    return {drafts.enqueue(request.draft_id, request.from, request.actor), false};
  }
  const std::string key = idempotency_key(request.draft_id, *request.idempotency_key);
  if (auto earlier = remembered(idempotency, key)) {
    return {*earlier, true};
  }
  std::string export_id;
  try {
    export_id = drafts.enqueue(request.draft_id, request.from, request.actor);
  } catch (const Failure& e) {
    // A concurrent call with the same key may have won the draft meanwhile.
    if (e.kind() == FailureKind::refused) {
      if (auto earlier = remembered(idempotency, key)) {
        return {*earlier, true};
      }
    }
    throw;
  }
  if (idempotency != nullptr) {
    try {
      idempotency->put(key, export_id, key_ttl);
    } catch (const Failure& e) {
      log_event(Level::warn, "cannot remember the idempotency key", {{"error", e.what()}});
    }
  }
  return {export_id, false};
}

void approve_draft(DraftStore& drafts, const std::string& draft_id, const std::string& actor) {
  check_uuid("draft id", draft_id);
  check_uuid("actor", actor);
  drafts.approve(draft_id, actor);
}

}  // namespace exportd
