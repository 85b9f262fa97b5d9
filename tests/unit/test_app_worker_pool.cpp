// The worker pool's decisions (deliver, retry, give up, fence) with fakes.
#include <catch2/catch.hpp>

#include "app/export_worker_pool.h"
#include "domain/connection_settings.h"
#include "tests/fakes/fake_export_queue.h"
#include "tests/support/process.h"

using namespace exportd;
using namespace exportd::testing;
using namespace std::chrono_literals;

namespace {

const nlohmann::json kFilesystem = {
    {"mode", "filesystem"}, {"export_path", "/drop/exports"}, {"ack_path", "/drop/acks"}};

struct Pool {
  explicit Pool(WorkerPoolOptions options = {})
      : pool(
            [&] {
              options.poll_interval = 20ms;
              return options;
            }(),
            [this](int) { return std::make_unique<FakeExportQueue>(store); },
            [this](const ConnectionSettings&) -> Dropzone& { return dropzone; }) {}
  FakeExportStore store;
  FakeDropzone dropzone;
  ExportWorkerPool pool;
};

bool status_is(FakeExportStore& store, const std::string& id, const std::string& status) {
  return store.get(id).status == status;
}

}  // namespace

TEST_CASE("the pool delivers every export once and flushes each directory per batch", "[app]") {
  Pool p({.workers = 3, .batch_size = 5});
  for (int i = 0; i < 40; ++i) {
    p.store.add("e" + std::to_string(i), kFilesystem);
  }
  p.pool.start();
  REQUIRE(eventually([&] { return p.pool.delivered() == 40; }, 10s));
  p.pool.stop();
  CHECK(p.dropzone.files.size() == 40);
  CHECK(p.dropzone.directory_syncs <= 40 / 5 + 3);  // one per batch, not one per file
  const auto doc = nlohmann::json::parse(p.dropzone.files.at("/drop/exports/sales_order_e7.json"));
  CHECK(doc["meta"]["export_id"] == "e7");
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
}

TEST_CASE("a permanent failure gives up at once", "[app]") {
  Pool p({.workers = 1});
  p.store.add("e1", kFilesystem);
  p.dropzone.write_failure = FailureKind::permanent;
  p.pool.start();
  REQUIRE(eventually([&] { return status_is(p.store, "e1", "FAILED"); }, 5s));
  CHECK(p.store.get("e1").attempts == 1);
  CHECK(p.store.get("e1").error["category"] == "permanent");
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

TEST_CASE("a delivery whose lease was lost is not counted", "[app]") {
  Pool p({.workers = 1});
  p.store.steal_leases_before_record = true;
  p.store.add("e1", kFilesystem);
  p.pool.start();
  REQUIRE(eventually([&] { return p.dropzone.files.size() == 1; }, 5s));
  p.pool.stop();
  CHECK(p.pool.delivered() == 0);
  CHECK(p.store.get("e1").status == "PENDING");
}

TEST_CASE("stop returns promptly while workers idle", "[app]") {
  Pool p({.workers = 4, .poll_interval = 600s});
  p.pool.start();
  const auto before = std::chrono::steady_clock::now();
  p.pool.stop();
  CHECK(std::chrono::steady_clock::now() - before < 1s);
}
