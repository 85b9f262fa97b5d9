// The worker pool with an archive: the copy before the file, its location
// recorded with SENT, and exports that wait, never fail, while it is down.
#include <catch2/catch.hpp>
#include <regex>

#include "app/connection_health.h"
#include "app/export_worker_pool.h"
#include "app/sha256.h"
#include "domain/connection_settings.h"
#include "tests/fakes/fake_archive.h"
#include "tests/fakes/fake_export_queue.h"
#include "tests/fakes/fake_metrics.h"
#include "tests/support/captured_log.h"
#include "tests/support/process.h"

using namespace exportd;
using namespace exportd::testing;
using namespace std::chrono_literals;

namespace {

const nlohmann::json kArchivedFilesystem = {
    {"mode", "filesystem"}, {"export_path", "/drop/exports"}, {"ack_path", "/drop/acks"}};

struct ArchivedPool {
  explicit ArchivedPool(RetryPolicy retry)
      : health(metrics, {.failure_threshold = 1000, .initial_pause = 60s}),
        pool(
            {.workers = 1,
             .batch_size = 5,
             .poll_interval = 20ms,
             .retry = retry,
             .archive = &archive},
            [this](int i) {
              return std::make_unique<FakeExportQueue>(store, "w" + std::to_string(i));
            },
            [this](int, const ClaimedExport&, const ConnectionSettings&) -> Dropzone& {
              return dropzone;
            },
            health, metrics) {}
  FakeExportStore store;
  FakeDropzone dropzone;
  FakeArchive archive;
  FakeMetrics metrics;
  ConnectionHealth health;
  ExportWorkerPool pool;
};

int archived_events(const CapturedLog& log, const std::string& message) {
  int count = 0;
  for (const auto& line : log.lines()) {
    count += nlohmann::json::parse(line)["msg"] == message ? 1 : 0;
  }
  return count;
}

}  // namespace

TEST_CASE("each delivered file is archived first and its location recorded with SENT",
          "[app][archive]") {
  ArchivedPool p({});
  p.store.add("e1", kArchivedFilesystem);
  p.store.add("e2", kArchivedFilesystem);
  p.dropzone.before_write = [&] {
    // The copy is already there when the file is written.
    std::lock_guard lock(p.archive.mutex);
    CHECK(p.archive.copies.size() == p.dropzone.files.size() + 1);
  };
  p.pool.start();
  REQUIRE(eventually([&] { return p.pool.delivered() == 2; }, 5s));
  p.pool.stop();
  for (const char* id : {"e1", "e2"}) {
    const auto e = p.store.get(id);
    CHECK(e.status == "SENT");
    CHECK(std::regex_match(e.archive_key,
                           std::regex(R"(archive:acme/\d{4}/\d{2}/\d{2}/)" + e.claim.file_name)));
    const std::string& bytes = p.dropzone.files.at("/drop/exports/" + e.claim.file_name);
    CHECK(p.archive.copies.at(e.archive_key) == bytes);
    CHECK(p.archive.digests.at(e.archive_key) == sha256_hex(bytes));
  }
}

TEST_CASE("while the archive fails nothing reaches the dropzone and exports wait, attempts kept",
          "[app][archive]") {
  CapturedLog log;
  // One attempt each: counted as failures, the first would end every export.
  ArchivedPool p({.max_attempts = 1, .initial_backoff = 300ms, .max_backoff = 1000ms});
  for (int i = 0; i < 3; ++i) {
    p.store.add("e" + std::to_string(i), kArchivedFilesystem);
  }
  p.archive.put_failure = FailureKind::transient;
  p.pool.start();
  // Read in one look at the store: a claimed export holds an attempt until
  // it is postponed and given it back, so attempts are judged on waiting ones.
  const auto all_postponed = [&](int times) {
    std::lock_guard lock(p.store.mutex);
    return std::all_of(p.store.exports.begin(), p.store.exports.end(), [&](const auto& e) {
      return !e.second.leased && e.second.postponements >= times && e.second.attempts == 0;
    });
  };
  REQUIRE(eventually([&] { return all_postponed(1); }, 5s));
  // The first failure stopped the batch's archive calls: the rest waited without one.
  CHECK(p.archive.puts == 1);
  // Due again, they try the archive again once its wait is over, and wait again.
  REQUIRE(eventually(
      [&] {
        FakeExportQueue::make_retries_due(p.store);
        p.pool.wake();
        return all_postponed(3);
      },
      10s));
  CHECK(p.dropzone.writes == 0);
  CHECK(p.metrics.deliveries(DeliveryOutcome::failed) == 0);
  CHECK(p.metrics.deliveries(DeliveryOutcome::retry) == 0);
  for (int i = 0; i < 3; ++i) {
    const auto e = p.store.get("e" + std::to_string(i));
    CHECK(e.status == "PENDING");
    CHECK(e.archive_key.empty());
  }

  // The archive comes back: everything goes out, each with its copy.
  {
    std::lock_guard lock(p.archive.mutex);
    p.archive.put_failure.reset();
  }
  REQUIRE(eventually(
      [&] {
        FakeExportQueue::make_retries_due(p.store);
        p.pool.wake();
        return p.pool.delivered() == 3;
      },
      10s));
  p.pool.stop();
  CHECK(p.archive.copies.size() == 3);
  CHECK(p.metrics.deliveries(DeliveryOutcome::failed) == 0);
  // Logged once when it went down and once when it came back, not per export.
  CHECK(archived_events(log, "cannot write to the archive; deliveries wait for it") == 1);
  CHECK(archived_events(log, "the archive takes copies again; deliveries resume") == 1);
}
