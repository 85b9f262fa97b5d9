// Port: what retention reads and removes in the database (Postgres in
// production; docs/operations.md, "Retention"). Every pass goes in batches,
// each its own short transaction, so no lock is held for long; a cursor says
// where a pass stands, so a batch never looks at a row twice. Every method
// may throw Failure(transient) when the store is unreachable.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "domain/retention.h"
#include "ports/ack_store.h"

namespace exportd {

// Where a pass stands: the last row a batch looked at, as the store writes
// it. Empty at the start of a pass.
struct PruneCursor {
  std::string position;
};

struct PruneBatch {
  size_t removed = 0;  // rows removed, or on a dry run that would be
  bool done = false;   // the pass has looked at every row older than the cutoff
};

// The archived copy of a finished export.
struct ArchivedCopy {
  std::string export_id;
  std::string location;  // erp_exports.archive_key
};

class RetentionStore {
 public:
  virtual ~RetentionStore() = default;

  // One pruner at a time across all hosts: true when this store now holds
  // the retention lock, until unlock.
  virtual bool try_lock() = 0;
  virtual void unlock() = 0;

  // The active dropzone connections, whose ack folders retention empties.
  virtual std::vector<AckConnection> active_connections() = 0;

  // One batch of a pass over the rows of `kind` (ack_file_records,
  // exports or audit_entries) dated before `before`: looks at up to `limit`
  // of them after `cursor`, in date order, and removes those that may go
  // (or counts them, on a dry run). Exports go only when ACKED or FAILED,
  // without an archived copy, and superseded by a newer export of their
  // draft; the ack file records naming them keep their row without the
  // reference. `cursor` moves past what the batch looked at.
  virtual PruneBatch prune_rows(PruneKind kind, std::chrono::system_clock::time_point before,
                                size_t limit, PruneCursor& cursor, bool dry_run) = 0;

  // Up to `limit` archived copies of ACKED or FAILED exports sent before
  // `before`, after `cursor` (moved past them).
  virtual std::vector<ArchivedCopy> archived_copies(std::chrono::system_clock::time_point before,
                                                    size_t limit, PruneCursor& cursor) = 0;
  // Clears archive_key of these exports: their copies are gone.
  virtual void forget_archived_copies(const std::vector<std::string>& export_ids) = 0;
};

}  // namespace exportd
