// Publishing the connections' delivery states for `status`: coalesced, off
// the workers' threads, nothing lost while the store is down.
#include <catch2/catch.hpp>

#include <algorithm>
#include <mutex>
#include <thread>

#include "app/circuit_publisher.h"
#include "domain/failure.h"
#include "tests/support/captured_log.h"
#include "tests/support/process.h"

using namespace exportd;
using namespace exportd::testing;
using namespace std::chrono_literals;

namespace {

struct RecordingLog : CircuitLog {
  void publish(const std::vector<CircuitChange>& changes) override {
    std::lock_guard lock(mutex);
    if (down) {
      throw Failure(FailureKind::transient, "database unreachable");
    }
    publications.push_back(changes);
  }
  std::vector<std::vector<CircuitChange>> taken() {
    std::lock_guard lock(mutex);
    return publications;
  }
  std::mutex mutex;
  bool down = false;
  std::vector<std::vector<CircuitChange>> publications;
};

}  // namespace

TEST_CASE("circuit publisher: the latest state of each connection, published together", "[app]") {
  auto owned = std::make_unique<RecordingLog>();
  RecordingLog& log = *owned;
  CircuitPublisher publisher(std::move(owned), 50ms);
  publisher.note("c1", CircuitBreaker::State::closed, 1);
  publisher.note("c1", CircuitBreaker::State::open, 3);
  publisher.note("c2", CircuitBreaker::State::closed, 0);
  publisher.start();
  REQUIRE(eventually([&] { return !log.taken().empty(); }, 5s));
  const auto first = log.taken().front();
  REQUIRE(first.size() == 2);
  CHECK(first[0].connection_id == "c1");
  CHECK(first[0].state == CircuitBreaker::State::open);
  CHECK(first[0].consecutive_failures == 3);
  CHECK(first[1].connection_id == "c2");
  publisher.stop();
  CHECK(log.taken().size() == 1);  // nothing new: nothing published
}

TEST_CASE("circuit publisher: changes wait while the store is down, newest kept; said once",
          "[app]") {
  CapturedLog captured;
  auto owned = std::make_unique<RecordingLog>();
  RecordingLog& log = *owned;
  {
    std::lock_guard lock(log.mutex);
    log.down = true;
  }
  CircuitPublisher publisher(std::move(owned), 20ms);
  publisher.start();
  publisher.note("c1", CircuitBreaker::State::open, 3);
  std::this_thread::sleep_for(150ms);  // several failed tries
  publisher.note("c1", CircuitBreaker::State::half_open, 3);
  {
    std::lock_guard lock(log.mutex);
    log.down = false;
  }
  REQUIRE(eventually([&] { return !log.taken().empty(); }, 5s));
  publisher.stop();
  const auto published = log.taken();
  REQUIRE(published.size() == 1);
  REQUIRE(published[0].size() == 1);
  CHECK(published[0][0].state == CircuitBreaker::State::half_open);
  const auto lines = captured.lines();
  const auto said = [&](const std::string& message) {
    return std::count_if(lines.begin(), lines.end(), [&](const std::string& line) {
      return line.find("\"msg\":\"" + message + "\"") != std::string::npos;
    });
  };
  CHECK(said("cannot publish connection states for status; will retry") == 1);
  CHECK(said("connection states published again") == 1);
}

TEST_CASE("circuit publisher: stopping publishes what was noted last", "[app]") {
  auto owned = std::make_unique<RecordingLog>();
  RecordingLog& log = *owned;
  CircuitPublisher publisher(std::move(owned), 1h);
  publisher.start();
  publisher.note("c1", CircuitBreaker::State::open, 3);
  publisher.stop();
  REQUIRE(log.taken().size() == 1);
  CHECK(log.taken()[0][0].connection_id == "c1");
}
