// Retention (docs/operations.md, "Retention"): removes what the daemon keeps
// once it is older than the [retention] keys say, on one host at a time and
// in small batches: day folders of handled ack files and their records,
// archived copies, superseded finished exports, audit entries. Never touches
// PENDING or SENT exports. `prune` runs it once; the daemon every hour.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <stop_token>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/daemon_config.h"
#include "app/dropzone_cache.h"
#include "domain/retention.h"
#include "ports/archive.h"
#include "ports/retention_store.h"

namespace exportd {

void wait_unless_stopped(std::chrono::nanoseconds pause, const std::stop_token& stop);

struct RetentionOptions {
  size_t batch_size = 1000;  // rows (or archived copies) per batch, each its own transaction
  std::function<std::chrono::system_clock::time_point()> now = [] {
    return std::chrono::system_clock::now();
  };
  // After each batch retention waits this many times as long as the batch
  // took, so a pass over a large history takes at most a fifth of the
  // database's time and deliveries keep their pace while it runs.
  int pause_per_batch = 4;
  std::function<std::chrono::steady_clock::time_point()> clock = [] {
    return std::chrono::steady_clock::now();
  };
  // Waits `pause`, or less once `stop` is requested.
  std::function<void(std::chrono::nanoseconds pause, const std::stop_token& stop)> pause =
      wait_unless_stopped;
};

struct PruneReport {
  bool dry_run = false;
  bool skipped = false;                 // another host was pruning: nothing done
  std::map<PruneKind, size_t> removed;  // or, on a dry run, would be removed
  std::vector<std::string> notes;       // what was kept on purpose, and why
  std::vector<std::string> failures;    // what could not be done; the rest went on
};

class Retention {
 public:
  // `dropzones` uses its slot 0. `archive` is null when none is configured:
  // archived copies are then left alone (their archive_key too).
  Retention(RetentionStore& store, DropzoneCache& dropzones, Archive* archive,
            RetentionOptions options = {});

  // Applies `config` once (0 days keeps a kind forever). A dry run counts
  // what would go and changes nothing. Stops between batches once `stop` is
  // requested. Throws only when the lock itself cannot be asked for.
  PruneReport run(const RetentionConfig& config, bool dry_run, std::stop_token stop = {});

 private:
  void prune_ack_folders(int days, std::chrono::system_clock::time_point now, bool dry_run,
                         const std::stop_token& stop, PruneReport& report);
  void prune_archive(int days, std::chrono::system_clock::time_point now, bool dry_run,
                     const std::stop_token& stop, PruneReport& report);
  void prune_rows(PruneKind kind, int days, std::chrono::system_clock::time_point now, bool dry_run,
                  const std::stop_token& stop, PruneReport& report);
  // Runs one batch, then waits pause_per_batch times as long as it took.
  template <typename Batch>
  auto paced(const std::stop_token& stop, Batch&& batch);

  RetentionStore& store_;
  DropzoneCache& dropzones_;
  Archive* archive_;
  RetentionOptions options_;
};

// What `prune --json` prints; keys in this order: {"dry_run", "skipped",
// "removed": {"ack_files": n, ...every kind}, "notes": [...], "failures": [...]}.
nlohmann::ordered_json prune_report_json(const PruneReport& report);
// What `prune` prints: one line per kind, then notes and failures.
std::string prune_report_text(const PruneReport& report);

}  // namespace exportd
