// The ack deadline sweeper against a scripted store and a test clock: what
// it asks the store, when it stops asking, what it logs, and its thread.
#include <catch2/catch.hpp>

#include <deque>
#include <mutex>

#include <nlohmann/json.hpp>

#include "app/ack_deadline_sweeper.h"
#include "domain/failure.h"
#include "tests/support/captured_log.h"

using namespace exportd;
using namespace exportd::testing;
using namespace std::chrono_literals;

namespace {

struct SweepCall {
  std::chrono::system_clock::time_point as_of;
  std::chrono::seconds default_timeout;
  int max_exports;
};

// Answers each sweep with the next scripted batch (then empty ones); a
// batch of nullopt is "another host sweeps", a throw_next a database down.
class ScriptedAckDeadlines final : public AckDeadlines {
 public:
  std::optional<std::vector<AckDeadlineChange>> sweep(std::chrono::system_clock::time_point as_of,
                                                      std::chrono::seconds default_timeout,
                                                      int max_exports) override {
    std::lock_guard lock(mutex);
    calls.push_back({as_of, default_timeout, max_exports});
    if (failures > 0) {
      --failures;
      throw Failure(FailureKind::transient, "database does not answer");
    }
    if (batches.empty()) {
      return std::vector<AckDeadlineChange>{};
    }
    auto batch = std::move(batches.front());
    batches.pop_front();
    return batch;
  }

  std::size_t call_count() {
    std::lock_guard lock(mutex);
    return calls.size();
  }

  std::mutex mutex;
  std::vector<SweepCall> calls;
  std::deque<std::optional<std::vector<AckDeadlineChange>>> batches;
  int failures = 0;
};

AckDeadlineChange change(int n, AckTimeoutAction action = AckTimeoutAction::alert) {
  return {.export_id = "e" + std::to_string(n),
          .org = "acme",
          .connection_id = "c1",
          .sent_at = "2026-01-02T03:04:05Z",
          .ack_timeout_s = 60,
          .action = action};
}

std::vector<AckDeadlineChange> changes(int count) {
  std::vector<AckDeadlineChange> out;
  for (int i = 0; i < count; ++i) {
    out.push_back(change(i));
  }
  return out;
}

std::vector<nlohmann::json> events(const CapturedLog& log) {
  std::vector<nlohmann::json> out;
  for (const auto& line : log.lines()) {
    out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

}  // namespace

TEST_CASE("ack deadline sweep: the test clock, the default deadline, one warning per export",
          "[app][ack_deadlines]") {
  CapturedLog log(LogFormat::json);
  auto store = std::make_unique<ScriptedAckDeadlines>();
  auto& scripted = *store;
  scripted.batches.push_back(std::vector{change(1), change(2, AckTimeoutAction::fail)});
  const auto clock = std::chrono::system_clock::time_point(1767322800s);
  AckDeadlineSweeper sweeper(std::move(store), 86400s, [&] { return clock; });

  CHECK(sweeper.sweep_once() == 2);
  REQUIRE(scripted.calls.size() == 1);  // a short batch: nothing more is due
  CHECK(scripted.calls[0].as_of == clock);
  CHECK(scripted.calls[0].default_timeout == 86400s);
  CHECK(scripted.calls[0].max_exports == AckDeadlineSweeper::kBatch);
  const auto logged = events(log);
  REQUIRE(logged.size() == 2);
  CHECK(logged[0]["level"] == "warning");
  CHECK_THAT(logged[0]["msg"].get<std::string>(), Catch::Contains("export overdue"));
  CHECK_THAT(logged[1]["msg"].get<std::string>(), Catch::Contains("export failed"));
  for (const auto& event : logged) {
    CHECK(event["org"] == "acme");
    CHECK(event["connection_id"] == "c1");
    CHECK(event["sent_at"] == "2026-01-02T03:04:05Z");
    CHECK(event["ack_timeout_s"] == 60);
  }
  CHECK(logged[0]["export_id"] == "e1");
  CHECK(logged[1]["export_id"] == "e2");

  // A reload's default applies from the next round on.
  sweeper.update(0s);
  CHECK(sweeper.sweep_once() == 0);
  CHECK(scripted.calls.back().default_timeout == 0s);
}

TEST_CASE("ack deadline sweep: full batches repeat, another host's sweep and a stop end it",
          "[app][ack_deadlines]") {
  CapturedLog log(LogFormat::json);
  auto store = std::make_unique<ScriptedAckDeadlines>();
  auto& scripted = *store;
  AckDeadlineSweeper sweeper(std::move(store), 60s);

  scripted.batches = {changes(AckDeadlineSweeper::kBatch), changes(AckDeadlineSweeper::kBatch),
                      changes(3)};
  CHECK(sweeper.sweep_once() == 2 * AckDeadlineSweeper::kBatch + 3);
  CHECK(scripted.calls.size() == 3);
  CHECK(log.lines().size() == 2 * AckDeadlineSweeper::kBatch + 3);

  scripted.calls.clear();
  scripted.batches = {std::nullopt, changes(1)};
  CHECK(sweeper.sweep_once() == 0);
  CHECK(scripted.calls.size() == 1);

  scripted.calls.clear();
  std::stop_source stop;
  stop.request_stop();
  CHECK(sweeper.sweep_once(stop.get_token()) == 0);
  CHECK(scripted.calls.empty());
}

TEST_CASE("ack deadline sweeper thread: sweeps at once, goes on after a failure, stops promptly",
          "[app][ack_deadlines]") {
  CapturedLog log(LogFormat::json);
  auto store = std::make_unique<ScriptedAckDeadlines>();
  auto& scripted = *store;
  scripted.failures = 2;
  scripted.batches = {std::nullopt, std::nullopt, std::vector{change(7)}};
  AckDeadlineSweeper sweeper(std::move(store), 60s, std::chrono::system_clock::now, 20ms);
  sweeper.start();
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (scripted.call_count() < 5 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(5ms);
  }
  sweeper.stop();
  CHECK(scripted.calls.size() >= 5);
  const auto logged = events(log);
  // Two failed rounds, said once; the recovery; then the export.
  REQUIRE(logged.size() >= 3);
  CHECK(logged[0]["msg"] == "ack deadline sweep failed");
  CHECK(logged[0]["error"] == "database does not answer");
  CHECK(logged[1]["msg"] == "ack deadline sweep works again");
  CHECK(std::count_if(logged.begin(), logged.end(), [](const nlohmann::json& e) {
          return e.value("export_id", "") == "e7";
        }) == 1);

  // With a round due only in an hour, a stop does not wait for it.
  AckDeadlineSweeper idle(std::make_unique<ScriptedAckDeadlines>(), 60s,
                          std::chrono::system_clock::now, 1h);
  idle.start();
  std::this_thread::sleep_for(50ms);
  const auto asked = std::chrono::steady_clock::now();
  idle.request_stop();
  idle.stop();
  CHECK(std::chrono::steady_clock::now() - asked < 1s);
}
