// The ack poller (docs/architecture.md, "Ack protocol"; the files themselves:
// docs/erp-integration.md, "Ack files"): a few threads share the active
// connections, each connection polled on its own schedule by one thread (and
// one host: AckStore::try_claim_connection). A poll lists ack_path, reads and
// judges each answer, records a batch in one transaction and only then moves
// the files into the day's folder of processed/ or error/.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "app/connection_health.h"
#include "app/connection_settings_cache.h"
#include "app/dropzone_cache.h"
#include "domain/schedule.h"
#include "ports/ack_store.h"
#include "ports/dropzone.h"
#include "ports/metrics.h"

namespace exportd {

struct ConnectionSettings;

struct AckPollerOptions {
  std::chrono::seconds poll_interval{60};  // unless the connection sets its own
  size_t max_file_bytes = 1048576;
  // Bounded work: a poll handles at most this many answers, then the
  // connection goes to the back of the line and continues right after.
  size_t max_files_per_poll = 2000;
  size_t batch_size = 500;  // answers recorded per transaction
  int threads = 2;
  // How often the list of active connections is read again.
  std::chrono::milliseconds refresh_every{5000};
  // When a handled file is moved: its UTC date names the day folder it goes
  // to; and the wall clock that ack schedules are read on.
  std::function<std::chrono::system_clock::time_point()> now = [] {
    return std::chrono::system_clock::now();
  };
};

struct AckPollSummary {
  size_t processed = 0;  // applied, or repeats: moved to processed/{day}/
  size_t refused = 0;    // moved to error/{day}/
  size_t waiting = 0;    // left for a later poll (export PENDING, or changed meanwhile)
  size_t unsettled = 0;  // unreadable for now and maybe still being written
  bool more = false;     // the poll stopped at max_files_per_poll
};

class AckPoller {
 public:
  using StoreFactory = std::function<std::unique_ptr<AckStore>(int thread)>;

  // Failing polls of a connection back off on their own schedule. A poll of
  // an SFTP server shares its endpoint's breaker with the deliveries
  // (`health`): not made while the breaker pauses the server, and its
  // outcome counts (a transient failure against the server, an answer for
  // it); a bad ack directory never pauses deliveries.
  AckPoller(AckPollerOptions options, StoreFactory stores, DropzoneCache& dropzones,
            Metrics& metrics, ConnectionHealth& health);
  ~AckPoller();  // stops and joins
  AckPoller(const AckPoller&) = delete;
  AckPoller& operator=(const AckPoller&) = delete;

  void start();
  void request_stop();
  void stop();
  // A reload's new default interval; the next poll of each connection uses it.
  void update(std::chrono::seconds poll_interval);

  // One poll of one connection the caller has claimed.
  AckPollSummary poll_once(AckStore& store, Dropzone& dropzone, const std::string& connection_id,
                           const ConnectionSettings& settings);

 private:
  struct Seen {
    std::int64_t size;
    std::chrono::system_clock::time_point modified;
    bool operator==(const Seen&) const = default;
  };
  struct Schedule {
    AckConnection connection;
    std::chrono::steady_clock::time_point due;
    bool running = false;
    int failures = 0;  // consecutive failed polls
    // Its SFTP server's; nullopt for a local directory or unreadable settings.
    std::optional<DeliveryRoute> route;
  };
  // What one turn of a connection came to, and when it is due again.
  struct PollOutcome {
    bool succeeded = true;
    bool more = false;  // stopped at max_files_per_poll: due again at once
    std::chrono::seconds interval{};
    std::optional<CronSchedule> ack_schedule;
    // Set: not polled, its server's breaker pauses it until then.
    std::optional<std::chrono::steady_clock::time_point> paused_until;
  };

  void run_thread(int index);
  void refresh_connections(AckStore& store);
  // The connection a thread polls next, with mutex_ held: the most overdue
  // one, never the first in id order, so none waits behind others that keep
  // falling due. A connection whose last poll failed, or whose SFTP server
  // is not trusted (failing, or not reached yet), may hang whoever polls it
  // (a server that takes connections and never answers): while one thread
  // polls such a connection, the others leave them alone and serve the
  // rest. Null when none may go now; `wake` is then lowered to when the next
  // one falls due.
  Schedule* next_due(std::chrono::steady_clock::time_point now,
                     std::chrono::steady_clock::time_point& wake);
  // Skips the poll, as a success, outside the minutes of the connection's
  // ack_schedule; `interval` is the daemon's default.
  PollOutcome poll_connection(int index, AckStore& store, const AckConnection& connection,
                              std::chrono::seconds interval);
  // Whether polling `s` may hang the thread (see next_due).
  bool risky(const Schedule& s);
  void flush(AckStore& store, Dropzone& dropzone, const std::string& connection_id,
             const ConnectionSettings& settings, std::vector<AckFileRecord>& batch,
             AckPollSummary& summary);

  AckPollerOptions options_;
  StoreFactory stores_;
  DropzoneCache& dropzones_;
  Metrics& metrics_;
  ConnectionHealth& health_;
  ConnectionSettingsCache settings_;
  std::vector<std::jthread> threads_;
  std::stop_source stop_;  // every thread's, and every wait's
  std::mutex mutex_;       // guards schedule_, refreshed_, failing_polls_
  std::condition_variable_any changed_;
  std::map<std::string, Schedule> schedule_;
  int failing_polls_ = 0;  // threads polling a risky connection
  std::chrono::steady_clock::time_point refreshed_;
  std::mutex seen_mutex_;
  std::map<std::string, std::map<std::string, Seen>> seen_;  // by connection, then file
};

}  // namespace exportd
