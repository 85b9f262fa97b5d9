// Batching: a worker writes and fsyncs every file of its batch, then flushes
// each touched directory once, then records the whole batch SENT in one
// transaction. The directory flush comes before the database says SENT, so a
// power cut can never leave SENT without the file. With an archive, each
// file's copy is written before the file, so the ERP never holds a file
// whose copy is missing, and its location is recorded with SENT.
#include "app/export_worker_pool.h"

#include <map>
#include <random>
#include <set>

#include "app/connection_health.h"
#include "app/export_files.h"
#include "app/sha256.h"
#include "domain/connection_settings.h"
#include "domain/dated_names.h"
#include "domain/export_contract.h"
#include "domain/export_document.h"
#include "domain/failure.h"
#include "logging/logging.h"

namespace exportd {

namespace {

using Clock = std::chrono::steady_clock;

nlohmann::json export_fields(const ClaimedExport& item) {
  return {{"export_id", item.export_id},
          {"draft_order_id", item.draft_order_id},
          {"org", item.source.org_slug.empty() ? item.org_id : item.source.org_slug},
          {"connection_id", item.connection_id},
          {"attempt", item.attempts}};
}

long long elapsed_ms(Clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
}

DeliveryRoute route_for(const std::string& connection_id, const ConnectionSettings& settings) {
  return {connection_id, delivery_endpoint(settings), settings.mode == DropzoneMode::sftp};
}

RetryPolicy policy_for(const RetryPolicy& base, const ConnectionSettings* settings) {
  RetryPolicy policy = base;
  if (settings != nullptr && settings->max_attempts) {
    policy.max_attempts = *settings->max_attempts;
  }
  if (settings != nullptr && settings->retry_backoff_s) {
    policy.initial_backoff = std::chrono::seconds(*settings->retry_backoff_s);
  }
  return policy;
}

struct Written {
  const ClaimedExport* item;
  DeliveryRecord record;
  bool already_present;
  std::string directory;
  Clock::time_point started;
};

}  // namespace

ExportWorkerPool::ExportWorkerPool(WorkerPoolOptions options, QueueFactory queues,
                                   DropzoneResolver dropzones, ConnectionHealth& health,
                                   Metrics& metrics)
    : options_(std::move(options)),
      queues_(std::move(queues)),
      dropzones_(std::move(dropzones)),
      health_(health),
      metrics_(metrics) {}

ExportWorkerPool::~ExportWorkerPool() {
  stop();
}

void ExportWorkerPool::start() {
  beats_ = std::make_unique<std::atomic<std::int64_t>[]>(static_cast<size_t>(options_.workers));
  held_.assign(static_cast<size_t>(options_.workers), std::nullopt);
  for (int i = 0; i < options_.workers; ++i) {
    beat(i);
  }
  lease_keeper_.emplace([this] { return queues_(options_.workers); }, options_.lease);
  for (int i = 0; i < options_.workers; ++i) {
    workers_.emplace_back([this, i] { run_worker(i); });
  }
}

void ExportWorkerPool::wake() {
  {
    std::lock_guard lock(mutex_);
    ++generation_;
  }
  wakeup_.notify_all();
}

void ExportWorkerPool::request_stop() {
  stop_.request_stop();  // wakes every wait on wakeup_
}

void ExportWorkerPool::stop() {
  request_stop();
  workers_.clear();  // joins
  // Only now: a stopping worker still finishes the export in hand.
  lease_keeper_.reset();
}

void ExportWorkerPool::beat(int index) {
  beats_[static_cast<size_t>(index)] = Clock::now().time_since_epoch().count();
}

bool ExportWorkerPool::progressing(std::chrono::milliseconds max_silence) const {
  const auto now = Clock::now().time_since_epoch().count();
  for (int i = 0; i < options_.workers; ++i) {
    if (!beats_ || now - beats_[static_cast<size_t>(i)] >
                       std::chrono::duration_cast<Clock::duration>(max_silence).count()) {
      return false;
    }
  }
  return true;
}

std::optional<std::chrono::system_clock::time_point> ExportWorkerPool::last_delivery() const {
  const auto ns = last_delivery_ns_.load();
  if (ns == 0) {
    return std::nullopt;
  }
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(ns)));
}

void ExportWorkerPool::update(std::chrono::milliseconds poll_interval, RetryPolicy retry) {
  std::lock_guard lock(mutex_);
  options_.poll_interval = poll_interval;
  options_.retry = retry;
}

void ExportWorkerPool::wait_for_work(int index, std::uint64_t seen_generation,
                                     std::chrono::milliseconds timeout) {
  // Beats at least every second while idle: an idle worker is a healthy one.
  const auto deadline = Clock::now() + timeout;
  const auto woken = [&] { return generation_ != seen_generation; };
  std::unique_lock lock(mutex_);
  while (!stop_.stop_requested() && !woken() && Clock::now() < deadline) {
    wakeup_.wait_for(lock, stop_.get_token(),
                     std::min<Clock::duration>(deadline - Clock::now(), std::chrono::seconds(1)),
                     woken);
    beat(index);
  }
}

void ExportWorkerPool::sleep_unless_stopped(std::chrono::milliseconds duration) {
  std::unique_lock lock(mutex_);
  wakeup_.wait_for(lock, stop_.get_token(), duration, [] { return false; });
}

void ExportWorkerPool::run_worker(int index) {
  std::unique_ptr<ExportQueue> queue = queues_(index);
  auto backoff = std::chrono::milliseconds(100);
  while (!stop_.stop_requested()) {
    beat(index);
    std::uint64_t generation = 0;
    std::chrono::milliseconds poll_interval{};
    {
      std::lock_guard lock(mutex_);
      generation = generation_;
      poll_interval = options_.poll_interval;
    }
    std::vector<ClaimedExport> batch;
    try {
      batch = claim_batch(index, *queue);
      backoff = std::chrono::milliseconds(100);
    } catch (const std::exception& e) {
      log_event(Level::warn, "cannot claim exports", {{"worker", index}, {"error", e.what()}});
      sleep_unless_stopped(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      continue;
    }
    if (batch.empty()) {
      wait_for_work(index, generation, poll_interval);
      continue;
    }
    lease_keeper_->hold(batch);
    deliver_batch(index, *queue, batch);
    lease_keeper_->release(batch);
    end_session(index);
  }
}

std::vector<ClaimedExport> ExportWorkerPool::claim_batch(int worker, ExportQueue& queue) {
  std::lock_guard one_claim_at_a_time(claim_mutex_);
  for (;;) {
    ClaimRequest request{.max = options_.batch_size, .lease = options_.lease};
    bool untrusted_full = false;
    {
      std::lock_guard lock(sessions_mutex_);
      request.after_connection = claim_cursor_;
      for (const auto& [connection_id, held] : sessions_) {
        const auto limit = session_limits_.find(connection_id);
        if (held >= (limit == session_limits_.end() ? options_.max_sessions_per_connection
                                                    : limit->second)) {
          request.excluded_connections.push_back(connection_id);
        }
      }
      untrusted_full = untrusted_sessions_locked() >= std::max(1, options_.workers / 2);
      for (const auto& [connection_id, route] : routes_) {
        const bool trusted = health_.trusted(route);
        if (!trusted && untrusted_full) {
          request.excluded_connections.push_back(connection_id);
        }
        // Local directories share batches while they answer.
        if (!trusted && !route.network) {
          request.unbatchable_connections.push_back(connection_id);
        }
      }
    }
    auto batch = queue.claim(request);
    if (batch.empty()) {
      return batch;
    }
    Session session;
    std::map<std::string, int> limits;  // of the batch's connections whose settings read
    for (const auto& item : batch) {
      if (std::any_of(session.routes.begin(), session.routes.end(),
                      [&](const auto& r) { return r.connection_id == item.connection_id; })) {
        continue;
      }
      if (const auto settings = settings_of(item)) {
        session.routes.push_back(route_for(item.connection_id, *settings));
        limits[item.connection_id] =
            settings->max_sessions.value_or(options_.max_sessions_per_connection);
      } else {
        // Settings that cannot be read fail the export before any call.
        session.routes.push_back({item.connection_id, "connection:" + item.connection_id, false});
      }
    }
    {
      std::lock_guard lock(sessions_mutex_);
      claim_cursor_ = batch.front().connection_id;
      for (const auto& route : session.routes) {
        if (const auto limit = limits.find(route.connection_id); limit != limits.end()) {
          routes_[route.connection_id] = route;
          session_limits_[route.connection_id] = limit->second;
        }
      }
      if (!untrusted_full || !untrusted_locked(session)) {
        for (const auto& route : session.routes) {
          ++sessions_[route.connection_id];
        }
        held_[static_cast<size_t>(worker)] = std::move(session);
        report_failing_endpoints_locked();
        return batch;
      }
    }
    // A connection first seen now, to a server not yet reached, while as
    // many workers as may are on such servers: back to the queue, and the
    // next claim passes over it.
    for (const auto& item : batch) {
      postpone(queue, item, std::chrono::milliseconds(0));
    }
  }
}

void ExportWorkerPool::end_session(int worker) {
  {
    std::lock_guard lock(sessions_mutex_);
    auto& held = held_[static_cast<size_t>(worker)];
    if (held) {
      for (const auto& route : held->routes) {
        if (--sessions_[route.connection_id] == 0) {
          sessions_.erase(route.connection_id);
        }
      }
    }
    held.reset();
    report_failing_endpoints_locked();
  }
  wake();  // a worker that found every due connection at its cap may claim now
}

bool ExportWorkerPool::untrusted_locked(const Session& session) {
  return std::any_of(session.routes.begin(), session.routes.end(),
                     [&](const DeliveryRoute& route) { return !health_.trusted(route); });
}

int ExportWorkerPool::untrusted_sessions_locked() {
  int untrusted = 0;
  for (const auto& held : held_) {
    untrusted += held && untrusted_locked(*held) ? 1 : 0;
  }
  return untrusted;
}

void ExportWorkerPool::report_failing_endpoints_locked() {
  metrics_.workers_on_failing_endpoints(static_cast<size_t>(untrusted_sessions_locked()));
}

std::vector<std::string> ExportWorkerPool::workers_on_failing_endpoints() {
  std::lock_guard lock(sessions_mutex_);
  std::vector<std::string> endpoints;
  for (const auto& held : held_) {
    if (!held) {
      continue;
    }
    for (const auto& route : held->routes) {
      if (!health_.trusted(route)) {
        endpoints.push_back(route.endpoint);  // the first one is what holds the worker
        break;
      }
    }
  }
  return endpoints;
}

std::optional<ConnectionSettings> ExportWorkerPool::settings_of(const ClaimedExport& item) {
  if (!item.connection_config) {
    return std::nullopt;
  }
  try {
    return settings_.get(item.connection_id, *item.connection_config);
  } catch (const std::exception&) {
    return std::nullopt;  // the delivery fails it, with the reason
  }
}

void ExportWorkerPool::deliver_batch(int worker, ExportQueue& queue,
                                     std::vector<ClaimedExport>& batch) {
  RetryPolicy retry;
  {
    std::lock_guard lock(mutex_);  // a reload may change it
    retry = options_.retry;
  }
  std::vector<Written> written;
  std::map<std::string, Dropzone*> directories;

  bool endpoint_failed = false;  // a call of this batch failed on the way to its server
  for (const ClaimedExport& item : batch) {
    const auto started = Clock::now();
    beat(worker);
    // After a failed call the rest of the batch goes back to the queue rather
    // than wait for the same server one by one; the breaker decides on them.
    if (stop_.stop_requested() || endpoint_failed) {
      postpone(queue, item, std::chrono::milliseconds(0));
      continue;
    }
    // Before the breakers: a trial call they admit must be made.
    if (const auto wait = archive_wait(started)) {
      postpone(queue, item, *wait);
      continue;
    }
    // Read once per export; settings that cannot be read fail it below, saying why.
    const auto settings = settings_of(item);
    if (const auto wait = settings ? schedule_wait(*settings) : std::nullopt) {
      postpone(queue, item, *wait);
      continue;
    }
    const auto route =
        settings ? std::optional(route_for(item.connection_id, *settings)) : std::nullopt;
    if (route) {
      if (const auto admission = health_.admit(*route); !admission.allowed) {
        postpone(queue, item,
                 std::chrono::ceil<std::chrono::milliseconds>(admission.retry_at - started));
        continue;
      }
    }
    try {
      if (!item.connection_config) {
        throw Failure(FailureKind::permanent, "the export's connection is missing or inactive");
      }
      if (!settings) {
        settings_.get(item.connection_id, *item.connection_config);  // throws the reason
        throw Failure(FailureKind::permanent, "the connection's settings cannot be read");
      }
      Dropzone& dropzone = dropzones_(worker, item, *settings);
      const ExportDocument document = build_export_document(item.source, options_.exporter);
      if (const auto violation = check_export_document(document.json)) {
        throw violation->failure();
      }
      const std::string bytes = serialize_export_document(document);
      const std::string digest = sha256_hex(bytes);
      std::string archive_key;
      if (options_.archive != nullptr) {
        try {
          archive_key =
              options_.archive->put(archive_object_name(item.source.org_slug, item.file_name,
                                                        std::chrono::system_clock::now()),
                                    bytes, digest);
          archive_succeeded();
        } catch (const std::exception& e) {
          health_.released(*route);
          postpone(queue, item, archive_failed(e.what(), retry));
          continue;
        }
      }
      const auto result = write_export_files(dropzone, *settings, item.file_name, bytes, digest);
      health_.succeeded(*route);
      const DropzoneCapabilities capabilities = dropzone.capabilities();
      capability_log_.note(item.connection_id, capabilities);
      if (capabilities.directory_sync) {
        directories[settings->export_path] = &dropzone;
      }
      written.push_back({&item,
                         {item.export_id, result.path, digest,
                          static_cast<std::int64_t>(bytes.size()), archive_key},
                         result.already_present,
                         settings->export_path,
                         started});
    } catch (const std::exception& e) {
      const FailureKind kind = failure_kind_of(e);
      if (route && kind == FailureKind::unavailable) {
        // Fixed by an operator, not by trying again: the connection pauses
        // and the export waits for it with its attempt given back.
        const auto until = health_.unavailable(*route, e.what());
        postpone(queue, item, std::chrono::ceil<std::chrono::milliseconds>(until - started));
        continue;
      }
      // Only transient failures say the server itself is in trouble.
      if (route && kind == FailureKind::transient) {
        health_.failed(*route, e.what());
        endpoint_failed = true;
        std::lock_guard lock(sessions_mutex_);
        report_failing_endpoints_locked();
      } else if (route) {
        health_.succeeded(*route);
      }
      record_failure(queue, item, e, policy_for(retry, settings ? &*settings : nullptr), started);
    }
  }

  std::set<std::string> unsynced;
  for (const auto& [directory, dropzone] : directories) {
    try {
      dropzone->sync_directory(directory);
    } catch (const std::exception& e) {
      unsynced.insert(directory);
      log_event(Level::warn, "cannot flush export directory",
                {{"directory", directory}, {"error", e.what()}});
    }
  }

  std::vector<DeliveryRecord> records;
  std::vector<const Written*> recorded;
  for (const auto& w : written) {
    if (unsynced.contains(w.directory)) {
      const Failure flush_failed(FailureKind::transient,
                                 "cannot flush directory '" + w.directory + "'");
      record_failure(queue, *w.item, flush_failed, retry, w.started);
      continue;
    }
    records.push_back(w.record);
    recorded.push_back(&w);
  }
  if (records.empty()) {
    return;
  }
  std::vector<std::string> lost;
  std::set<std::string> unrecorded;
  try {
    lost = queue.record_sent(records);
  } catch (const std::exception& e) {
    if (failure_kind_of(e) == FailureKind::transient) {
      // The files are there; the lease lapses and a later attempt finds them
      // present and records them then. Nothing is written twice.
      log_event(Level::warn, "cannot record deliveries",
                {{"count", records.size()}, {"error", e.what()}});
      return;
    }
    // A permanent refusal does not say which export breaks the rule: each is
    // recorded alone, and the one refused fails instead of being delivered
    // again and again.
    for (const Written* w : recorded) {
      try {
        const auto lost_alone = queue.record_sent({w->record});
        lost.insert(lost.end(), lost_alone.begin(), lost_alone.end());
      } catch (const std::exception& refusal) {
        unrecorded.insert(w->item->export_id);
        if (const auto kind = failure_kind_of(refusal); kind != FailureKind::transient) {
          const Failure refused(kind, "cannot record the delivery of '" + w->record.dropzone_path +
                                          "': " + refusal.what());
          record_failure(queue, *w->item, refused, retry, w->started);
        }
      }
    }
  }
  const std::set<std::string> lost_ids(lost.begin(), lost.end());
  for (const Written* w : recorded) {
    if (unrecorded.contains(w->item->export_id)) {
      continue;
    }
    auto fields = export_fields(*w->item);
    fields["file_name"] = w->item->file_name;
    fields["duration_ms"] = elapsed_ms(w->started);
    if (lost_ids.contains(w->item->export_id)) {
      log_event(Level::warn, "lease lost before the delivery was recorded", fields);
      continue;
    }
    fields["path"] = w->record.dropzone_path;
    fields["bytes"] = w->record.byte_size;
    fields["already_present"] = w->already_present;
    if (!w->record.archive_key.empty()) {
      fields["archive_key"] = w->record.archive_key;
    }
    log_event(Level::info, "export delivered", fields);
    metrics_.delivery_finished(DeliveryOutcome::sent, Clock::now() - w->started);
    ++delivered_;
    last_delivery_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  }
}

std::optional<std::chrono::milliseconds> ExportWorkerPool::archive_wait(Clock::time_point now) {
  std::lock_guard lock(archive_mutex_);
  if (!archive_down_ || now >= archive_retry_at_) {
    return std::nullopt;
  }
  return std::chrono::ceil<std::chrono::milliseconds>(archive_retry_at_ - now);
}

std::chrono::milliseconds ExportWorkerPool::archive_failed(const std::string& error,
                                                           const RetryPolicy& policy) {
  std::lock_guard lock(archive_mutex_);
  if (!archive_down_) {
    archive_down_ = true;
    archive_backoff_ = policy.initial_backoff;
    log_event(Level::error, "cannot write to the archive; deliveries wait for it",
              {{"error", error}, {"retry_in_ms", archive_backoff_.count()}});
  } else {
    archive_backoff_ = std::min(archive_backoff_ * 2, policy.max_backoff);
  }
  archive_retry_at_ = Clock::now() + archive_backoff_;
  return archive_backoff_;
}

void ExportWorkerPool::archive_succeeded() {
  std::lock_guard lock(archive_mutex_);
  if (archive_down_) {
    archive_down_ = false;
    log_event(Level::info, "the archive takes copies again; deliveries resume", {});
  }
}

std::optional<std::chrono::milliseconds> ExportWorkerPool::schedule_wait(
    const ConnectionSettings& settings) {
  const auto& schedule = settings.delivery_schedule;
  const auto now = options_.wall_clock();
  if (!schedule || schedule->matches(now)) {
    return std::nullopt;
  }
  return std::chrono::ceil<std::chrono::milliseconds>(schedule->next_matching_minute(now) - now);
}

void ExportWorkerPool::postpone(ExportQueue& queue, const ClaimedExport& item,
                                std::chrono::milliseconds delay) {
  try {
    queue.postpone(item.export_id, std::max(delay, std::chrono::milliseconds(0)));
  } catch (const std::exception& e) {
    auto fields = export_fields(item);
    fields["error"] = e.what();
    log_event(Level::warn, "cannot release the export; the lease will lapse", fields);
  }
}

void ExportWorkerPool::record_failure(ExportQueue& queue, const ClaimedExport& item,
                                      const std::exception& error, const RetryPolicy& policy,
                                      Clock::time_point started) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  const FailureKind kind = failure_kind_of(error);
  // Only a transient failure is worth another attempt.
  const bool give_up = kind != FailureKind::transient || attempts_exhausted(policy, item.attempts);
  FailureRecord record{
      item.export_id,
      {{"error", error.what()}, {"category", to_string(kind)}, {"attempt", item.attempts}},
      std::nullopt};
  if (!give_up) {
    record.retry_after = retry_delay(policy, item.attempts, random);
  }
  auto fields = export_fields(item);
  fields["error"] = error.what();
  fields["category"] = to_string(kind);
  if (const auto* failure = dynamic_cast<const Failure*>(&error)) {
    record.error.update(failure->details());
    fields.update(failure->details());
  }
  if (record.retry_after) {
    fields["retry_in_ms"] = record.retry_after->count();
  }
  log_event(give_up ? Level::error : Level::warn,
            give_up ? "export failed, giving up" : "export attempt failed, will retry", fields);
  metrics_.delivery_finished(give_up ? DeliveryOutcome::failed : DeliveryOutcome::retry,
                             Clock::now() - started);
  try {
    queue.record_failure(record);
  } catch (const std::exception& e) {
    fields["record_error"] = e.what();
    log_event(Level::warn, "cannot record the failure; the lease will lapse", fields);
  }
}

}  // namespace exportd
