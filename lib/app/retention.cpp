// Each kind goes in its own passes of small batches, so a failure or a stop
// leaves the rest for the next run and no transaction is ever long. A failure
// of one kind (or one connection's dropzone) is reported and the others
// still run: a dropzone that is down must not keep the audit log growing.
#include "app/retention.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "domain/connection_settings.h"
#include "domain/failure.h"
#include "logging/logging.h"

namespace exportd {

namespace {

// Holds the retention lock for the run; an unlock that fails leaves the lock
// to the end of the store's database session.
class LockHeld {
 public:
  explicit LockHeld(RetentionStore& store) : store_(store) {}
  LockHeld(const LockHeld&) = delete;
  LockHeld& operator=(const LockHeld&) = delete;
  ~LockHeld() {
    try {
      store_.unlock();
    } catch (const std::exception& e) {
      log_event(Level::warn, "retention lock not released",
                {{"error", e.what()}, {"category", to_string(failure_kind_of(e))}});
    }
  }

 private:
  RetentionStore& store_;
};

std::string failure_text(std::string_view what, const std::exception& e) {
  std::string text(what);
  text.append(": ").append(e.what());
  return text;
}

}  // namespace

Retention::Retention(RetentionStore& store, DropzoneCache& dropzones, Archive* archive,
                     RetentionOptions options)
    : store_(store), dropzones_(dropzones), archive_(archive), options_(std::move(options)) {}

void wait_unless_stopped(std::chrono::nanoseconds pause, const std::stop_token& stop) {
  std::mutex mutex;
  std::condition_variable_any stopped;
  std::unique_lock lock(mutex);
  stopped.wait_for(lock, stop, pause, [] { return false; });
}

template <typename Batch>
auto Retention::paced(const std::stop_token& stop, Batch&& batch) {
  const auto start = options_.clock();
  auto result = batch();
  options_.pause(options_.pause_per_batch * (options_.clock() - start), stop);
  return result;
}

PruneReport Retention::run(const RetentionConfig& config, bool dry_run, std::stop_token stop) {
  PruneReport report{.dry_run = dry_run};
  for (const auto kind : kPruneKinds) {
    report.removed[kind] = 0;
  }
  if (!store_.try_lock()) {
    report.skipped = true;
    return report;
  }
  const LockHeld held(store_);
  const auto now = options_.now();
  if (config.ack_files_days > 0) {
    prune_ack_folders(config.ack_files_days, now, dry_run, stop, report);
    prune_rows(PruneKind::ack_file_records, config.ack_files_days, now, dry_run, stop, report);
  }
  // An export keeps its row while its copy is kept. Exports before copies,
  // so a dry run counts exactly what a run removes: an export whose copy
  // goes now follows on the next run.
  if (config.finished_exports_days > 0) {
    prune_rows(PruneKind::exports, config.finished_exports_days, now, dry_run, stop, report);
  }
  if (config.archive_days > 0) {
    prune_archive(config.archive_days, now, dry_run, stop, report);
  }
  if (config.audit_days > 0) {
    prune_rows(PruneKind::audit_entries, config.audit_days, now, dry_run, stop, report);
  }
  return report;
}

void Retention::prune_ack_folders(int days, std::chrono::system_clock::time_point now, bool dry_run,
                                  const std::stop_token& stop, PruneReport& report) {
  std::vector<AckConnection> connections;
  try {
    connections = store_.active_connections();
  } catch (const std::exception& e) {
    report.failures.push_back(failure_text("ack folders", e));
    return;
  }
  for (const auto& connection : connections) {
    const std::string& id = connection.connection_id;
    try {
      const auto settings = parse_connection_settings(nlohmann::json::parse(connection.config));
      Dropzone& dropzone = dropzones_.get(0, id, settings, connection.sealed_secret);
      for (const char* disposition : {"processed", "error"}) {
        const std::string parent = settings.ack_path + "/" + disposition;
        auto folders = dropzone.list_directories(parent);
        std::sort(folders.begin(), folders.end());
        for (const auto& folder : folders) {
          if (stop.stop_requested()) {
            return;
          }
          if (!day_folder_expired(folder, days, now)) {
            continue;
          }
          const std::string path = parent + "/" + folder;
          size_t files = 0;
          try {
            files = dry_run ? dropzone.list_files(path).size() : dropzone.remove_directory(path);
          } catch (const std::exception& e) {
            // Something else in the folder is that folder's problem; the
            // dropzone failing is the whole connection's.
            if (failure_kind_of(e) != FailureKind::permanent) {
              throw;
            }
            report.failures.push_back(failure_text("connection " + id, e));
            continue;
          }
          report.removed[PruneKind::ack_files] += files;
          if (!dry_run) {
            log_event(Level::info, "ack day folder removed",
                      {{"connection_id", id}, {"folder", path}, {"files", files}});
          }
        }
      }
    } catch (const std::exception& e) {
      report.failures.push_back(failure_text("connection " + id, e));
    }
  }
}

void Retention::prune_archive(int days, std::chrono::system_clock::time_point now, bool dry_run,
                              const std::stop_token& stop, PruneReport& report) {
  if (archive_ == nullptr) {
    report.notes.emplace_back(
        "archived copies kept: no [archive] is configured, so none can be removed");
    return;
  }
  const auto before = retention_cutoff(days, now);
  PruneCursor cursor;
  size_t& removed = report.removed[PruneKind::archive_copies];
  try {
    for (;;) {
      if (stop.stop_requested()) {
        return;
      }
      const auto copies =
          paced(stop, [&] { return store_.archived_copies(before, options_.batch_size, cursor); });
      if (dry_run) {
        removed += copies.size();
      } else {
        std::vector<std::string> gone;
        try {
          for (const auto& copy : copies) {
            archive_->remove(copy.location);
            gone.push_back(copy.export_id);
          }
        } catch (...) {
          // What is gone is forgotten; the copy that failed stays recorded.
          store_.forget_archived_copies(gone);
          removed += gone.size();
          throw;
        }
        store_.forget_archived_copies(gone);
        removed += gone.size();
      }
      if (copies.size() < options_.batch_size) {
        return;
      }
    }
  } catch (const std::exception& e) {
    report.failures.push_back(failure_text(to_string(PruneKind::archive_copies), e));
  }
}

void Retention::prune_rows(PruneKind kind, int days, std::chrono::system_clock::time_point now,
                           bool dry_run, const std::stop_token& stop, PruneReport& report) {
  const auto before = retention_cutoff(days, now);
  PruneCursor cursor;
  try {
    for (PruneBatch batch; !batch.done;) {
      if (stop.stop_requested()) {
        return;
      }
      batch = paced(stop, [&] {
        return store_.prune_rows(kind, before, options_.batch_size, cursor, dry_run);
      });
      report.removed[kind] += batch.removed;
    }
  } catch (const std::exception& e) {
    report.failures.push_back(failure_text(to_string(kind), e));
  }
}

nlohmann::ordered_json prune_report_json(const PruneReport& report) {
  nlohmann::ordered_json removed = nlohmann::ordered_json::object();
  for (const auto kind : kPruneKinds) {
    const auto it = report.removed.find(kind);
    removed[std::string(to_string(kind))] = it == report.removed.end() ? 0 : it->second;
  }
  return {{"dry_run", report.dry_run},
          {"skipped", report.skipped},
          {"removed", removed},
          {"notes", report.notes},
          {"failures", report.failures}};
}

std::string prune_report_text(const PruneReport& report) {
  if (report.skipped) {
    return "another process is pruning now; nothing was done\n";
  }
  std::string text = report.dry_run ? "dry run: nothing was changed\n" : "";
  for (const auto kind : kPruneKinds) {
    const auto it = report.removed.find(kind);
    text.append(to_string(kind))
        .append(": ")
        .append(std::to_string(it == report.removed.end() ? 0 : it->second))
        .append(report.dry_run ? " would be removed\n" : " removed\n");
  }
  for (const auto& note : report.notes) {
    text.append("note: ").append(note).append("\n");
  }
  for (const auto& failure : report.failures) {
    text.append("failed: ").append(failure).append("\n");
  }
  return text;
}

}  // namespace exportd
