// The worker pool's decisions (deliver, retry, give up, fence) with fakes.
#include <algorithm>
#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include "app/connection_health.h"
#include "app/export_worker_pool.h"
#include "domain/connection_settings.h"
#include "tests/fakes/fake_export_queue.h"
#include "tests/fakes/fake_metrics.h"
#include "tests/support/captured_log.h"
#include "tests/support/process.h"

using namespace exportd;
using namespace exportd::testing;
using namespace std::chrono_literals;

namespace {

// Appended, not `"e" + std::to_string(i)`: GCC 12 at -O3 reports a false
// -Wrestrict overlap for a literal prepended to a temporary string.
std::string export_id(int i) {
  return std::string("e").append(std::to_string(i));
}

const nlohmann::json kFilesystem = {
    {"mode", "filesystem"}, {"export_path", "/drop/exports"}, {"ack_path", "/drop/acks"}};

struct Pool {
  // The breaker stays out of the way unless a test lowers its threshold.
  explicit Pool(WorkerPoolOptions options = {}, int failure_threshold = 1000)
      : health(metrics, {.failure_threshold = failure_threshold, .initial_pause = 60s},
               [this] { return now.load(); }),
        pool(
            [&] {
              options.poll_interval = 20ms;
              return options;
            }(),
            [this](int i) {
              return std::make_unique<FakeExportQueue>(store, "w" + std::to_string(i));
            },
            [this](int, const ClaimedExport&, const ConnectionSettings&) -> Dropzone& {
              return dropzone;
            },
            health, metrics) {}
  FakeExportStore store;
  FakeDropzone dropzone;
  std::atomic<CircuitBreaker::Clock::time_point> now{CircuitBreaker::Clock::now()};
  FakeMetrics metrics;
  ConnectionHealth health;
  ExportWorkerPool pool;
};

// How many logged events carry `message`, each checked to name conn-1.
int events_about_conn_1(const CapturedLog& log, const std::string& message) {
  int count = 0;
  for (const auto& line : log.lines()) {
    const auto event = nlohmann::json::parse(line);
    if (event["msg"] == message) {
      CHECK(event["connection_id"] == "conn-1");
      ++count;
    }
  }
  return count;
}

const std::string kNoDirectorySync =
    "dropzone cannot sync directories; a power cut on the server may lose a renamed file";
const std::string kNoFileSync =
    "dropzone cannot sync files; a power cut on the server may leave a delivered file empty or "
    "cut short";

// Every export released and waiting for a later attempt.
bool all_waiting(FakeExportStore& store) {
  std::lock_guard lock(store.mutex);
  return std::all_of(store.exports.begin(), store.exports.end(), [](const auto& e) {
    return !e.second.leased && e.second.last_retry_after.has_value();
  });
}

bool status_is(FakeExportStore& store, const std::string& id, const std::string& status) {
  return store.get(id).status == status;
}

}  // namespace

TEST_CASE("the pool delivers every export once and flushes each directory per batch", "[app]") {
  Pool p({.workers = 3, .batch_size = 5});
  for (int i = 0; i < 40; ++i) {
    p.store.add(export_id(i), kFilesystem);
  }
  p.pool.start();
  REQUIRE(eventually([&] { return p.pool.delivered() == 40; }, 10s));
  p.pool.stop();
  CHECK(p.dropzone.files.size() == 40);
  // All 40 are due at once, so every claim takes a full batch: eight batches,
  // each flushing its one directory once, never once per file, never skipped.
  CHECK(p.dropzone.directory_syncs == 40 / 5);
  CHECK(p.metrics.deliveries(DeliveryOutcome::sent) == 40);
  CHECK(p.metrics.deliveries(DeliveryOutcome::retry) == 0);
  const auto durations = p.metrics.durations();
  CHECK(durations.size() == 40);
  // Each from its own start: a clock mixed up would be far out.
  CHECK(std::all_of(durations.begin(), durations.end(),
                    [](auto took) { return took > 0s && took < 5s; }));
  const auto doc = nlohmann::json::parse(p.dropzone.files.at("/drop/exports/sales_order_e7.json"));
  CHECK(doc["meta"]["export_id"] == p.store.get("e7").claim.source.export_id);
}

TEST_CASE("a dropzone that cannot flush directories is never asked to; logged once", "[app]") {
  CapturedLog log;
  Pool p({.workers = 2, .batch_size = 3});
  p.dropzone.supported = {.file_sync = false, .directory_sync = false};
  for (int i = 0; i < 10; ++i) {
    p.store.add(export_id(i), kFilesystem);
  }
  p.pool.start();
  REQUIRE(eventually([&] { return p.pool.delivered() == 10; }, 10s));
  p.pool.stop();
  CHECK(p.dropzone.directory_syncs == 0);
  CHECK(events_about_conn_1(log, kNoDirectorySync) == 1);
  CHECK(events_about_conn_1(log, kNoFileSync) == 1);
}

TEST_CASE("a dropzone that can flush everything is not logged about", "[app]") {
  CapturedLog log;
  Pool p({.workers = 1});
  p.store.add("e1", kFilesystem);
  p.pool.start();
  REQUIRE(eventually([&] { return p.pool.delivered() == 1; }, 5s));
  p.pool.stop();
  CHECK(p.dropzone.directory_syncs == 1);
  CHECK(events_about_conn_1(log, kNoDirectorySync) == 0);
  CHECK(events_about_conn_1(log, kNoFileSync) == 0);
}

TEST_CASE("a transient failure is retried with backoff until attempts are exhausted", "[app]") {
  Pool p({.workers = 1,
          .batch_size = 1,
          .retry = {.max_attempts = 3, .initial_backoff = 1000ms, .max_backoff = 60000ms}});
  p.store.add("e1", kFilesystem);
  p.dropzone.write_failure = FailureKind::transient;
  p.pool.start();
  for (int attempt = 1; attempt <= 2; ++attempt) {
    REQUIRE(eventually([&] { return p.store.get("e1").last_retry_after.has_value(); }, 5s));
    const auto e = p.store.get("e1");
    CHECK(e.status == "PENDING");
    CHECK(e.error["category"] == "transient");
    // 1 s doubling, with equal jitter: within [half, full] of the capped delay.
    const auto full = 1000ms * (1 << (attempt - 1));
    CHECK(*e.last_retry_after >= full / 2);
    CHECK(*e.last_retry_after <= full);
    FakeExportQueue::make_retries_due(p.store);
    p.pool.wake();
  }
  REQUIRE(eventually([&] { return status_is(p.store, "e1", "FAILED"); }, 5s));
  CHECK(p.store.get("e1").attempts == 3);
  CHECK(p.metrics.deliveries(DeliveryOutcome::retry) == 2);
  CHECK(p.metrics.deliveries(DeliveryOutcome::failed) == 1);
  CHECK(p.metrics.deliveries(DeliveryOutcome::sent) == 0);
}

TEST_CASE("a permanent failure gives up at once", "[app]") {
  Pool p({.workers = 1});
  p.store.add("e1", kFilesystem);
  p.dropzone.write_failure = FailureKind::permanent;
  p.pool.start();
  REQUIRE(eventually([&] { return status_is(p.store, "e1", "FAILED"); }, 5s));
  CHECK(p.store.get("e1").attempts == 1);
  CHECK(p.store.get("e1").error["category"] == "permanent");
  CHECK(p.metrics.deliveries(DeliveryOutcome::failed) == 1);
}

TEST_CASE("each kind of failure that gives up is recorded under its own category", "[app]") {
  for (const auto kind : {FailureKind::permanent, FailureKind::refused, FailureKind::bad_config}) {
    Pool p({.workers = 1});
    p.store.add("e1", kFilesystem);
    p.dropzone.write_failure = kind;
    p.pool.start();
    REQUIRE(eventually([&] { return status_is(p.store, "e1", "FAILED"); }, 5s));
    CHECK(p.store.get("e1").attempts == 1);
    CHECK(p.store.get("e1").error["category"] == to_string(kind));
  }
}

TEST_CASE("an unexpected exception fails the export at once, as a permanent failure", "[app]") {
  Pool p({.workers = 1});
  p.store.add("e1", kFilesystem);
  p.dropzone.before_write = [] { throw std::logic_error("unexpected"); };
  p.pool.start();
  REQUIRE(eventually([&] { return status_is(p.store, "e1", "FAILED"); }, 5s));
  CHECK(p.store.get("e1").attempts == 1);
  CHECK(p.store.get("e1").error["category"] == "permanent");
  CHECK(p.store.get("e1").error["error"] == "unexpected");
}

TEST_CASE("invalid connection settings or a missing connection are permanent", "[app]") {
  Pool p({.workers = 1});
  p.store.add("bad", {{"mode", "ftp"}, {"export_path", "/x"}, {"ack_path", "/y"}});
  p.store.add("missing", nullptr);
  p.store.exports.at("missing").claim.connection_config.reset();
  p.pool.start();
  REQUIRE(eventually([&] { return status_is(p.store, "bad", "FAILED"); }, 5s));
  REQUIRE(eventually([&] { return status_is(p.store, "missing", "FAILED"); }, 5s));
  CHECK_THAT(p.store.get("bad").error["error"].get<std::string>(), Catch::Contains("'mode'"));
  CHECK(p.dropzone.files.empty());
}

TEST_CASE("a connection's own max_attempts overrides the daemon's", "[app]") {
  Pool p({.workers = 1, .retry = {.max_attempts = 8}});
  auto config = kFilesystem;
  config["max_attempts"] = 1;
  p.store.add("e1", config);
  p.dropzone.write_failure = FailureKind::transient;
  p.pool.start();
  REQUIRE(eventually([&] { return status_is(p.store, "e1", "FAILED"); }, 5s));
  CHECK(p.store.get("e1").attempts == 1);
}

TEST_CASE("a failed directory flush records nothing as SENT", "[app]") {
  Pool p({.workers = 1});
  p.store.add("e1", kFilesystem);
  p.dropzone.sync_fails = true;
  p.pool.start();
  REQUIRE(eventually([&] { return p.store.get("e1").last_retry_after.has_value(); }, 5s));
  CHECK(p.store.get("e1").status == "PENDING");
  CHECK(p.pool.delivered() == 0);
}

TEST_CASE("a delivery the database refuses to record fails that export alone", "[app]") {
  Pool p({.workers = 1, .batch_size = 3});
  for (int i = 0; i < 3; ++i) {
    p.store.add(export_id(i), kFilesystem);
  }
  p.store.refuse_sent = [](const std::string& id) {
    if (id == "e1") {
      throw Failure(FailureKind::permanent, "database error (SQLSTATE 23514): refused");
    }
  };
  p.pool.start();
  REQUIRE(eventually([&] { return status_is(p.store, "e1", "FAILED"); }, 5s));
  REQUIRE(eventually([&] { return p.pool.delivered() == 2; }, 5s));
  p.pool.stop();
  CHECK(status_is(p.store, "e0", "SENT"));
  CHECK(status_is(p.store, "e2", "SENT"));
  CHECK(p.store.get("e1").error["category"] == "permanent");
  CHECK_THAT(p.store.get("e1").error["error"].get<std::string>(),
             Catch::Contains("SQLSTATE 23514"));
}

TEST_CASE("a delivery whose lease was lost is not counted", "[app]") {
  Pool p({.workers = 1});
  p.store.steal_leases_before_record = true;
  p.store.add("e1", kFilesystem);
  p.pool.start();
  REQUIRE(eventually(
      [&] {
        std::lock_guard lock(p.dropzone.mutex);  // the worker writes it meanwhile
        return p.dropzone.files.size() == 1;
      },
      5s));
  p.pool.stop();
  CHECK(p.pool.delivered() == 0);
  CHECK(p.store.get("e1").status == "PENDING");
}

TEST_CASE("every claimed export keeps its lease until recorded, even while a call blocks",
          "[app]") {
  // A 600 ms lease; the first write blocks 900 ms, the others take 150 ms:
  // the batch outlasts the lease, and the first exports are written long
  // before the batch is recorded. An idle second worker claims whatever lapses.
  Pool p({.workers = 2, .batch_size = 5, .lease = 600ms});
  for (int i = 0; i < 5; ++i) {
    p.store.add(export_id(i), kFilesystem);
  }
  std::atomic<int> calls{0};
  p.dropzone.before_write = [&] { std::this_thread::sleep_for(calls++ == 0 ? 900ms : 150ms); };
  p.pool.start();
  REQUIRE(eventually(
      [&] {
        std::lock_guard lock(p.store.mutex);
        return std::all_of(p.store.exports.begin(), p.store.exports.end(),
                           [](const auto& e) { return e.second.status == "SENT"; });
      },
      10s));
  p.pool.stop();
  CHECK(p.store.lost == 0);
  CHECK(p.pool.delivered() == 5);
  CHECK(p.dropzone.writes == 5);  // nothing redone by the other worker
  for (int i = 0; i < 5; ++i) {
    CHECK(p.store.get(export_id(i)).claims == 1);
  }
}

TEST_CASE("stop returns promptly while workers idle", "[app]") {
  Pool p({.workers = 4, .poll_interval = 600s});
  p.pool.start();
  const auto before = std::chrono::steady_clock::now();
  p.pool.stop();
  CHECK(std::chrono::steady_clock::now() - before < 1s);
}

TEST_CASE("a connection that keeps failing pauses as a whole, without using up attempts", "[app]") {
  Pool p({.workers = 1, .batch_size = 10}, 2);
  for (int i = 0; i < 10; ++i) {
    p.store.add(export_id(i), kFilesystem);
  }
  p.dropzone.write_failure = FailureKind::transient;
  p.pool.start();
  REQUIRE(eventually(
      [&] {
        std::lock_guard lock(p.store.mutex);
        for (const auto& [id, e] : p.store.exports) {
          if (e.leased || !e.last_retry_after) {
            return false;
          }
        }
        return true;
      },
      5s));
  p.pool.stop();
  // Two calls reached the dropzone; the breaker held back the other eight.
  // After each failed call the rest of the batch went back to the queue.
  CHECK(p.dropzone.writes == 2);
  int held_back = 0;
  for (int i = 0; i < 10; ++i) {
    const auto e = p.store.get(export_id(i));
    CHECK(e.status == "PENDING");
    if (e.attempts == 0) {
      ++held_back;
      CHECK(*e.last_retry_after > 59s);  // until the pause is over
    }
  }
  CHECK(held_back == 8);
  CHECK(p.health.state("conn-1") == CircuitBreaker::State::open);
  // Told once per change: first seen, one failure, paused; postponed
  // exports are no deliveries.
  using Change = FakeMetrics::HealthChange;
  CHECK(p.metrics.health_changes() ==
        std::vector<Change>{{"conn-1", CircuitBreaker::State::closed, 0},
                            {"conn-1", CircuitBreaker::State::closed, 1},
                            {"conn-1", CircuitBreaker::State::open, 2}});
  CHECK(p.metrics.deliveries(DeliveryOutcome::retry) == 2);
}

TEST_CASE("an unavailable dropzone pauses the connection at once; exports wait, attempts kept",
          "[app]") {
  // One attempt each: treated as an ordinary failure, the first would end every export.
  Pool p({.workers = 1, .batch_size = 5, .retry = {.max_attempts = 1}});
  for (int i = 0; i < 5; ++i) {
    p.store.add(export_id(i), kFilesystem);
  }
  p.dropzone.write_failure = FailureKind::unavailable;
  p.pool.start();
  REQUIRE(eventually([&] { return all_waiting(p.store); }, 5s));
  // The first call paused the connection; the rest of the batch waited without a call.
  CHECK(p.dropzone.writes == 1);
  for (int i = 0; i < 5; ++i) {
    const auto e = p.store.get(export_id(i));
    CHECK(e.status == "PENDING");
    CHECK(e.attempts == 0);
    CHECK(e.postponements == 1);
    CHECK(*e.last_retry_after > 59s);  // until the pause is over
  }
  CHECK(p.health.state("conn-1") == CircuitBreaker::State::open);
  CHECK(p.metrics.deliveries(DeliveryOutcome::retry) == 0);
  CHECK(p.metrics.deliveries(DeliveryOutcome::failed) == 0);

  // The operator fixes the dropzone; once the pause is over everything goes out.
  {
    std::lock_guard lock(p.dropzone.mutex);
    p.dropzone.write_failure.reset();
  }
  p.now = p.now.load() + 61s;
  FakeExportQueue::make_retries_due(p.store);
  p.pool.wake();
  REQUIRE(eventually([&] { return p.pool.delivered() == 5; }, 5s));
  p.pool.stop();
  CHECK(p.health.state("conn-1") == CircuitBreaker::State::closed);
  for (int i = 0; i < 5; ++i) {
    CHECK(p.store.get(export_id(i)).attempts == 1);
  }
}

TEST_CASE("after the pause one trial goes first; its success resumes the connection", "[app]") {
  Pool p({.workers = 1, .batch_size = 10}, 2);
  for (int i = 0; i < 4; ++i) {
    p.store.add(export_id(i), kFilesystem);
  }
  p.health.failed({"conn-1", "file:///drop/exports"}, "earlier");
  p.health.failed({"conn-1", "file:///drop/exports"}, "earlier");
  REQUIRE(p.health.state("conn-1") == CircuitBreaker::State::open);
  p.now = p.now.load() + 61s;
  p.pool.start();
  REQUIRE(eventually([&] { return p.pool.delivered() == 4; }, 5s));
  p.pool.stop();
  CHECK(p.health.state("conn-1") == CircuitBreaker::State::closed);
  const auto changes = p.metrics.health_changes();
  using Change = FakeMetrics::HealthChange;
  CHECK(changes == std::vector<Change>{{"conn-1", CircuitBreaker::State::closed, 1},
                                       {"conn-1", CircuitBreaker::State::open, 2},
                                       {"conn-1", CircuitBreaker::State::half_open, 2},
                                       {"conn-1", CircuitBreaker::State::closed, 0}});
}

TEST_CASE("stopping releases the rest of a batch for later, attempts not counted", "[app]") {
  Pool p({.workers = 1, .batch_size = 5});
  for (int i = 0; i < 5; ++i) {
    p.store.add(export_id(i), kFilesystem);
  }
  std::mutex gate;
  std::unique_lock held(gate);
  std::atomic<bool> writing{false};
  p.dropzone.before_write = [&] {
    writing = true;
    std::lock_guard wait_for_release(gate);
  };
  p.pool.start();
  REQUIRE(eventually([&] { return writing.load(); }, 5s));
  p.pool.request_stop();
  held.unlock();
  p.pool.stop();
  CHECK(p.pool.delivered() == 1);
  int released = 0;
  for (int i = 0; i < 5; ++i) {
    const auto e = p.store.get(export_id(i));
    if (e.status == "PENDING") {
      ++released;
      CHECK(e.attempts == 0);
      CHECK_FALSE(e.leased);
    }
  }
  CHECK(released == 4);
}

TEST_CASE("outside its delivery schedule an export waits for the next window, attempts kept",
          "[app][cron]") {
  using std::chrono::sys_days;
  // Friday 2026-11-27, 21:50 in Berlin (20:50Z): "*/15 6-21 * * 1-5" reopens
  // on Monday at 06:00 (05:00Z).
  const auto friday_evening = sys_days(std::chrono::year(2026) / 11 / 27) + 20h + 50min;
  const auto monday_morning = sys_days(std::chrono::year(2026) / 11 / 30) + 5h;
  std::atomic<std::chrono::system_clock::time_point> wall{friday_evening};
  Pool p({.workers = 1, .batch_size = 5, .retry = {.max_attempts = 1}, .wall_clock = [&] {
            return wall.load();
          }});
  auto scheduled = kFilesystem;
  scheduled["delivery_schedule"] = {{"cron", "*/15 6-21 * * 1-5"}, {"timezone", "Europe/Berlin"}};
  for (int i = 0; i < 3; ++i) {
    p.store.add(export_id(i), scheduled);
  }
  p.store.add("unscheduled", kFilesystem);
  p.pool.start();
  REQUIRE(eventually(
      [&] {
        std::lock_guard lock(p.store.mutex);
        return std::all_of(p.store.exports.begin(), p.store.exports.end(), [](const auto& e) {
          return e.second.status == "SENT" || e.second.last_retry_after.has_value();
        });
      },
      5s));
  CHECK(status_is(p.store, "unscheduled", "SENT"));
  CHECK(p.dropzone.writes == 1);
  for (int i = 0; i < 3; ++i) {
    const auto e = p.store.get(export_id(i));
    CHECK(e.status == "PENDING");
    CHECK(e.attempts == 0);
    CHECK(e.postponements == 1);
    CHECK(e.last_retry_after == monday_morning - friday_evening);
  }

  // In the window's first minute, all that waited go.
  wall = monday_morning + 20s;
  FakeExportQueue::make_retries_due(p.store);
  p.pool.wake();
  REQUIRE(eventually([&] { return p.pool.delivered() == 4; }, 5s));
  p.pool.stop();
  for (int i = 0; i < 3; ++i) {
    CHECK(p.store.get(export_id(i)).attempts == 1);
  }
}

namespace {

// Holds every write into directories starting with `prefix` until released,
// counting the writers held at once: a server that takes calls and never
// answers.
struct FrozenServer {
  explicit FrozenServer(std::string held_prefix) : prefix(std::move(held_prefix)) {}
  void hold(const std::string& directory) {
    if (!directory.starts_with(prefix)) {
      return;
    }
    std::unique_lock lock(mutex);
    ++held;
    most_held = std::max(most_held, held);
    thawed.wait(lock, [&] { return released; });
    --held;
  }
  void release() {
    {
      std::lock_guard lock(mutex);
      released = true;
    }
    thawed.notify_all();
  }
  int held_now() {
    std::lock_guard lock(mutex);
    return held;
  }
  int most() {
    std::lock_guard lock(mutex);
    return most_held;
  }

  std::string prefix;
  std::mutex mutex;
  std::condition_variable thawed;
  bool released = false;
  int held = 0;
  int most_held = 0;
};

nlohmann::json filesystem_in(const std::string& root) {
  return {{"mode", "filesystem"}, {"export_path", root + "/exports"}, {"ack_path", root + "/acks"}};
}

nlohmann::json sftp_to(const std::string& host) {
  return {{"mode", "sftp"},           {"host", host},         {"username", "erp"},
          {"private_key_path", "/k"}, {"export_path", "/in"}, {"ack_path", "/out"}};
}

int delivered_of(FakeExportStore& store, const std::string& connection_id) {
  std::lock_guard lock(store.mutex);
  return static_cast<int>(std::count_if(store.exports.begin(), store.exports.end(), [&](auto& e) {
    return e.second.claim.connection_id == connection_id && e.second.status == "SENT";
  }));
}

}  // namespace

TEST_CASE("a hung connection holds at most max_sessions workers; the rest serve the others",
          "[app][tenants]") {
  Pool p({.workers = 4, .batch_size = 1});
  FrozenServer frozen("/hung");
  for (int i = 0; i < 10; ++i) {
    p.store.add(std::string("hung-").append(std::to_string(i)), filesystem_in("/hung"), "conn-a");
  }
  auto capped = filesystem_in("/capped");
  capped["max_sessions"] = 1;
  for (int i = 0; i < 10; ++i) {
    p.store.add(std::string("other-").append(std::to_string(i)), filesystem_in("/ok"), "conn-b");
    p.store.add(std::string("one-").append(std::to_string(i)), capped, "conn-c");
  }
  std::atomic<int> capped_writers{0}, most_capped_writers{0};
  p.dropzone.before_write_in = [&](const std::string& directory) {
    frozen.hold(directory);
    if (directory.starts_with("/capped")) {
      const int writers = ++capped_writers;
      most_capped_writers = std::max(most_capped_writers.load(), writers);
      std::this_thread::sleep_for(2ms);  // long enough for a second writer to show
      --capped_writers;
    }
  };
  p.pool.start();
  REQUIRE(eventually([&] { return delivered_of(p.store, "conn-b") == 10; }, 10s));
  REQUIRE(eventually([&] { return delivered_of(p.store, "conn-c") == 10; }, 10s));
  CHECK(frozen.held_now() == 2);  // the default cap, [export] max_sessions_per_connection
  // The hung connection's other exports were never claimed: no attempt spent.
  int untouched = 0;
  for (int i = 0; i < 10; ++i) {
    untouched += p.store.get(std::string("hung-").append(std::to_string(i))).attempts == 0;
  }
  CHECK(untouched == 8);
  frozen.release();
  REQUIRE(eventually([&] { return delivered_of(p.store, "conn-a") == 10; }, 10s));
  p.pool.stop();
  CHECK(frozen.most() == 2);
  CHECK(most_capped_writers == 1);  // the connection's own max_sessions
}

TEST_CASE("workers in calls to failing or unreached servers are at most half the pool",
          "[app][tenants]") {
  Pool p({.workers = 4, .batch_size = 1});
  // Four connections to one server that never answers, each allowed two
  // sessions: without the bound they would take every worker.
  FrozenServer frozen("/in");
  p.dropzone.before_write_in = [&](const std::string& directory) { frozen.hold(directory); };
  for (int c = 0; c < 4; ++c) {
    for (int i = 0; i < 3; ++i) {
      p.store.add(std::string("f").append(std::to_string(c * 10 + i)), sftp_to("frozen.example"),
                  std::string("conn-f").append(std::to_string(c)));
    }
  }
  for (int i = 0; i < 20; ++i) {
    p.store.add(std::string("h").append(std::to_string(i)), filesystem_in("/healthy"), "conn-h");
  }
  p.pool.start();
  REQUIRE(eventually([&] { return delivered_of(p.store, "conn-h") == 20; }, 10s));
  CHECK(frozen.held_now() == 2);
  CHECK(p.pool.workers_on_failing_endpoints() ==
        std::vector<std::string>{"sftp://frozen.example:22", "sftp://frozen.example:22"});
  CHECK(p.metrics.workers_on_failing_endpoints() == 2);
  frozen.release();
  REQUIRE(eventually([&] { return p.pool.delivered() == 32; }, 10s));
  p.pool.stop();
  CHECK(frozen.most() == 2);
  CHECK(p.pool.workers_on_failing_endpoints().empty());
  CHECK(p.metrics.workers_on_failing_endpoints() == 0);
}

TEST_CASE("connections to one server share its breaker", "[app][tenants]") {
  Pool p({.workers = 1, .batch_size = 10}, 3);
  for (int c = 0; c < 3; ++c) {
    for (int i = 0; i < 4; ++i) {
      p.store.add(std::string("x").append(std::to_string(c * 10 + i)), sftp_to("dead.example"),
                  std::string("conn-").append(std::to_string(c)));
    }
  }
  p.dropzone.write_failure = FailureKind::transient;
  p.pool.start();
  REQUIRE(eventually([&] { return all_waiting(p.store); }, 5s));
  p.pool.stop();
  // Three calls in all, not three per connection: then every connection to
  // the server waits for the end of its pause.
  CHECK(p.dropzone.writes == 3);
  for (int c = 0; c < 3; ++c) {
    CHECK(p.health.state(std::string("conn-").append(std::to_string(c))) ==
          CircuitBreaker::State::open);
  }
}

TEST_CASE("local directories that answer share batches; a server's batch is its own",
          "[app][tenants]") {
  Pool p({.workers = 1, .batch_size = 4});
  for (const std::string c : {"conn-a", "conn-b", "conn-c"}) {
    for (int i = 0; i < 20; ++i) {
      p.store.add(c + "-" + std::to_string(i), filesystem_in("/" + c), c);
    }
  }
  for (int i = 0; i < 8; ++i) {
    p.store.add("s-" + std::to_string(i), sftp_to("erp.example"), "conn-s");
  }
  p.pool.start();
  REQUIRE(eventually([&] { return p.pool.delivered() == 68; }, 10s));
  p.pool.stop();
  std::lock_guard lock(p.store.mutex);
  bool shared = false;
  for (const auto& batch : p.store.batches) {
    shared = shared || batch.size() == 3;
    if (batch.contains("conn-s")) {
      CHECK(batch.size() == 1);
    }
  }
  // Once each had answered: until then a connection is not known to answer.
  CHECK(shared);
}
