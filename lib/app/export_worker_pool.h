// The export use case: N worker threads claim batches of PENDING exports,
// build each document, write it to the dropzone and record the outcome
// (docs/architecture.md, "Delivery protocol"). The one place that catches,
// classifies, retries and logs delivery failures.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "app/connection_health.h"
#include "app/connection_settings_cache.h"
#include "app/dropzone_capability_log.h"
#include "app/lease_keeper.h"
#include "domain/retry_policy.h"
#include "ports/archive.h"
#include "ports/dropzone.h"
#include "ports/export_queue.h"
#include "ports/metrics.h"

namespace exportd {

struct ConnectionSettings;

struct WorkerPoolOptions {
  int workers = 4;
  size_t batch_size = 32;
  std::chrono::milliseconds poll_interval{5000};
  std::chrono::milliseconds lease{30000};
  // A connection's batches held at once, unless it sets max_sessions.
  int max_sessions_per_connection = 2;
  RetryPolicy retry;
  std::string exporter = "orderflow-exportd";
  // Where each file's copy is written before the file itself; null: no
  // archive. Shared by the workers; outlives the pool.
  Archive* archive = nullptr;
  // The wall clock that connections' delivery schedules are read on.
  std::function<std::chrono::system_clock::time_point()> wall_clock = [] {
    return std::chrono::system_clock::now();
  };
};

// Builds each worker's own queue (its own database connection); index
// `workers` is the lease keeper's.
using QueueFactory = std::function<std::unique_ptr<ExportQueue>(int worker_index)>;
// The dropzone worker `worker_index` uses for an export's connection (see
// DropzoneCache); throws Failure when it cannot be had.
using DropzoneResolver = std::function<Dropzone&(int worker_index, const ClaimedExport& item,
                                                 const ConnectionSettings& settings)>;

class ExportWorkerPool {
 public:
  // `health` pauses connections that keep failing; shared with whoever
  // reports on them. `metrics` counts every attempt's outcome.
  ExportWorkerPool(WorkerPoolOptions options, QueueFactory queues, DropzoneResolver dropzones,
                   ConnectionHealth& health, Metrics& metrics);
  ~ExportWorkerPool();  // stops and joins
  ExportWorkerPool(const ExportWorkerPool&) = delete;
  ExportWorkerPool& operator=(const ExportWorkerPool&) = delete;

  void start();
  // New work may be due: wake idle workers now instead of at the next poll.
  void wake();
  // Stops claiming; the export being written finishes, the rest of each
  // batch is released for later. Returns at once.
  void request_stop();
  // request_stop, then waits until every worker exited.
  void stop();

  // Exports recorded SENT since start (for status lines and tests).
  std::uint64_t delivered() const { return delivered_; }
  // When the last export was recorded SENT; nullopt before the first.
  std::optional<std::chrono::system_clock::time_point> last_delivery() const;

  // True when every worker went round its loop or started an export within
  // `max_silence`: the proof of progress the service watchdog and /healthz
  // go by. A worker stuck in a call or a database wait falls silent.
  bool progressing(std::chrono::milliseconds max_silence) const;

  // The endpoints (delivery_endpoint) of the batches workers hold whose last
  // call failed or that were never reached: one entry per such worker. At
  // most half the workers (at least one) take batches of such endpoints, so
  // the rest keep serving the ones that answer.
  std::vector<std::string> workers_on_failing_endpoints();

  // The settings a reload may change while the workers run.
  void update(std::chrono::milliseconds poll_interval, RetryPolicy retry);

 private:
  // A worker's batch: whose exports it holds (one connection's, or several
  // local directories'), so that claims leave a connection alone while
  // max_sessions workers hold its exports.
  struct Session {
    std::vector<DeliveryRoute> routes;
  };

  void run_worker(int index);
  // Claims the next batch round-robin, within the connection caps and the
  // bound on failing endpoints; the worker holds it as a session until
  // end_session.
  std::vector<ClaimedExport> claim_batch(int worker, ExportQueue& queue);
  void end_session(int worker);
  // With sessions_mutex_ held.
  int untrusted_sessions_locked();
  void report_failing_endpoints_locked();
  // The export's connection settings (parsed once per change of their text);
  // nullopt when they are missing or cannot be read, which fails the export
  // before any call.
  std::optional<ConnectionSettings> settings_of(const ClaimedExport& item);
  // With sessions_mutex_ held: whether the session's exports may hang.
  bool untrusted_locked(const Session& session);
  void deliver_batch(int worker, ExportQueue& queue, std::vector<ClaimedExport>& batch);
  void postpone(ExportQueue& queue, const ClaimedExport& item, std::chrono::milliseconds delay);
  // How long an export claimed outside its connection's delivery schedule
  // waits: until the start of the next matching minute. Nullopt: it may go.
  std::optional<std::chrono::milliseconds> schedule_wait(const ConnectionSettings& settings);
  // The error's kind (failure_kind_of) goes to error_json and the log as the
  // category; anything but transient gives up at once.
  void record_failure(ExportQueue& queue, const ClaimedExport& item, const std::exception& error,
                      const RetryPolicy& policy, std::chrono::steady_clock::time_point started);
  // While the archive fails, every export waits with its attempt given back
  // (a delivery is never recorded without its copy, nor given up for want
  // of one): archive_wait says how long still, archive_failed starts or
  // doubles the wait (from the retry policy's first backoff up to its
  // longest), archive_succeeded ends it. Each change is logged once.
  std::optional<std::chrono::milliseconds> archive_wait(std::chrono::steady_clock::time_point now);
  std::chrono::milliseconds archive_failed(const std::string& error, const RetryPolicy& policy);
  void archive_succeeded();
  void wait_for_work(int index, std::uint64_t seen_generation, std::chrono::milliseconds timeout);
  void beat(int index);
  void sleep_unless_stopped(std::chrono::milliseconds duration);

  WorkerPoolOptions options_;
  QueueFactory queues_;
  DropzoneResolver dropzones_;
  ConnectionHealth& health_;
  Metrics& metrics_;
  DropzoneCapabilityLog capability_log_;
  ConnectionSettingsCache settings_;
  std::optional<LeaseKeeper> lease_keeper_;  // outlives the workers: joined after them
  std::vector<std::jthread> workers_;
  std::stop_source stop_;  // every worker's, and every wait's
  std::mutex mutex_;
  std::condition_variable_any wakeup_;
  std::uint64_t generation_ = 0;  // bumped by wake(); guarded by mutex_
  // Claims go one at a time, so the caps they count are exact. Held across
  // the database call: nothing but claims ever waits for it.
  std::mutex claim_mutex_;
  // Guards the five below; never held across a call that may block.
  std::mutex sessions_mutex_;
  std::string claim_cursor_;                     // the connection claimed last
  std::map<std::string, int> sessions_;          // by connection: workers holding its batches
  std::map<std::string, DeliveryRoute> routes_;  // by connection, once claimed
  std::map<std::string, int> session_limits_;    // by connection: its max_sessions, once claimed
  std::vector<std::optional<Session>> held_;     // by worker
  std::mutex archive_mutex_;
  bool archive_down_ = false;  // guarded by archive_mutex_, as are the two below
  std::chrono::steady_clock::time_point archive_retry_at_;
  std::chrono::milliseconds archive_backoff_{0};
  std::atomic<std::uint64_t> delivered_{0};
  std::atomic<std::int64_t> last_delivery_ns_{0};  // system_clock; 0 = never
  // steady_clock of each worker's latest loop, in ns since the epoch.
  std::unique_ptr<std::atomic<std::int64_t>[]> beats_;
};

}  // namespace exportd
