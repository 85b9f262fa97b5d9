// The database probe answers at once whatever the database does.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>

#include "app/database_probe.h"
#include "tests/support/process.h"

using namespace exportd;
using namespace exportd::testing;
using namespace std::chrono_literals;

TEST_CASE("the database probe says unreachable while a question hangs", "[app][probe]") {
  std::mutex mutex;
  std::condition_variable thawed;
  bool frozen = false;
  DatabaseProbe probe(
      [&]() -> std::optional<long long> {
        std::unique_lock lock(mutex);
        thawed.wait(lock, [&] { return !frozen; });
        return 7;
      },
      20ms, 300ms);
  const auto answers = [&] { return probe.pending() == std::optional<long long>(7); };
  REQUIRE(eventually(answers, 5s));
  {
    std::lock_guard lock(mutex);
    frozen = true;
  }
  // The question never returns, and yet the probe tells at once.
  REQUIRE(eventually([&] { return !probe.reachable(); }, 5s));
  CHECK_FALSE(probe.pending());
  {
    std::lock_guard lock(mutex);
    frozen = false;
  }
  thawed.notify_all();
  CHECK(eventually(answers, 5s));
}

TEST_CASE("the database probe says unreachable when the database refuses", "[app][probe]") {
  DatabaseProbe probe([]() -> std::optional<long long> { return std::nullopt; }, 20ms, 60s);
  CHECK(eventually([&] { return !probe.reachable(); }, 5s));
  CHECK_FALSE(probe.pending());
}
