// The connection circuit breaker: closed, open after a run of failures,
// half-open for one trial, growing pauses.
#include <catch2/catch.hpp>

#include "domain/circuit_breaker.h"

using namespace exportd;
using namespace std::chrono_literals;

TEST_CASE("the breaker opens after the threshold and lets one trial through", "[breaker]") {
  CircuitBreaker breaker({.failure_threshold = 3, .initial_pause = 5s, .max_pause = 18s});
  const auto t0 = CircuitBreaker::Clock::time_point{} + 1h;

  CHECK(breaker.admit(t0).allowed);
  CHECK_FALSE(breaker.record_failure(t0));
  CHECK_FALSE(breaker.record_failure(t0));
  CHECK(breaker.state() == CircuitBreaker::State::closed);
  CHECK(breaker.record_failure(t0));  // third in a row: state change
  CHECK(breaker.state() == CircuitBreaker::State::open);

  const auto paused = breaker.admit(t0 + 1s);
  CHECK_FALSE(paused.allowed);
  CHECK(paused.retry_at == t0 + 5s);

  // After the pause: exactly one trial, the rest keep waiting.
  CHECK(breaker.admit(t0 + 5s).allowed);
  CHECK(breaker.state() == CircuitBreaker::State::half_open);
  CHECK_FALSE(breaker.admit(t0 + 5s).allowed);

  // The trial fails: open again for twice as long, then capped.
  CHECK(breaker.record_failure(t0 + 6s));
  CHECK(breaker.current_pause() == 10s);
  CHECK_FALSE(breaker.admit(t0 + 15s).allowed);
  CHECK(breaker.admit(t0 + 16s).allowed);
  CHECK(breaker.record_failure(t0 + 16s));
  CHECK(breaker.current_pause() == 18s);

  // A late failure of a call admitted earlier does not extend the pause.
  CHECK_FALSE(breaker.record_failure(t0 + 17s));

  // A successful trial closes it and forgets the history.
  CHECK(breaker.admit(t0 + 40s).allowed);
  CHECK(breaker.record_success());
  CHECK(breaker.state() == CircuitBreaker::State::closed);
  CHECK_FALSE(breaker.record_success());
  CHECK_FALSE(breaker.record_failure(t0 + 41s));
  CHECK(breaker.consecutive_failures() == 1);
}

TEST_CASE("a success in between resets the failure run", "[breaker]") {
  CircuitBreaker breaker({.failure_threshold = 2});
  const auto t0 = CircuitBreaker::Clock::time_point{};
  breaker.record_failure(t0);
  breaker.record_success();
  CHECK_FALSE(breaker.record_failure(t0));
  CHECK(breaker.state() == CircuitBreaker::State::closed);
  CHECK(to_string(breaker.state()) == std::string("closed"));
}

TEST_CASE("a trip opens the breaker at once; a failed trial doubles the pause", "[breaker]") {
  CircuitBreaker breaker({.failure_threshold = 3, .initial_pause = 5s, .max_pause = 18s});
  const auto t0 = CircuitBreaker::Clock::time_point{} + 1h;

  CHECK(breaker.trip(t0));
  CHECK(breaker.state() == CircuitBreaker::State::open);
  CHECK(breaker.paused_until() == t0 + 5s);
  CHECK_FALSE(breaker.admit(t0 + 1s).allowed);
  CHECK_FALSE(breaker.trip(t0 + 1s));  // a call admitted before the pause: no change
  CHECK(breaker.paused_until() == t0 + 5s);

  CHECK(breaker.admit(t0 + 5s).allowed);
  CHECK(breaker.trip(t0 + 5s));
  CHECK(breaker.paused_until() == t0 + 15s);
  CHECK(breaker.admit(t0 + 15s).allowed);
  CHECK(breaker.record_success());
  CHECK(breaker.state() == CircuitBreaker::State::closed);
}

TEST_CASE("peek answers as admit would and takes no trial; a trial not made is given back",
          "[breaker]") {
  CircuitBreaker breaker({.failure_threshold = 1, .initial_pause = 5s, .max_pause = 20s});
  const auto t0 = CircuitBreaker::Clock::time_point{} + 1h;
  CHECK(breaker.peek(t0).allowed);
  breaker.record_failure(t0);
  CHECK_FALSE(breaker.peek(t0 + 1s).allowed);
  CHECK(breaker.peek(t0 + 1s).retry_at == t0 + 5s);
  CHECK(breaker.peek(t0 + 5s).allowed);
  CHECK(breaker.state() == CircuitBreaker::State::open);  // peeking took nothing

  CHECK(breaker.admit(t0 + 5s).allowed);
  CHECK_FALSE(breaker.admit(t0 + 5s).allowed);
  breaker.release_trial();
  CHECK(breaker.state() == CircuitBreaker::State::open);
  CHECK(breaker.admit(t0 + 6s).allowed);  // the next caller makes the trial
  CHECK(breaker.current_pause() == 5s);   // giving it back cost no longer pause
}

TEST_CASE("a failure after the pause ended opens the breaker again for longer", "[breaker]") {
  CircuitBreaker breaker({.failure_threshold = 1, .initial_pause = 5s, .max_pause = 20s});
  const auto t0 = CircuitBreaker::Clock::time_point{} + 1h;
  CHECK(breaker.record_failure(t0));
  // Within the pause: a call admitted before it began, nothing changes.
  CHECK_FALSE(breaker.record_failure(t0 + 1s));
  CHECK(breaker.paused_until() == t0 + 5s);
  // After it, without a trial through admit (a caller that only peeks).
  CHECK(breaker.peek(t0 + 6s).allowed);
  CHECK(breaker.record_failure(t0 + 6s));
  CHECK(breaker.paused_until() == t0 + 16s);
  CHECK_FALSE(breaker.peek(t0 + 7s).allowed);
}
