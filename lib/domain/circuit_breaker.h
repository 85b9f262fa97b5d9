// The circuit breaker of one connection: after a run of transient failures
// the connection pauses as a whole, so a dead server costs one failed call
// per cool-down instead of one per export. Pure: the caller passes the time.
#pragma once

#include <chrono>

namespace exportd {

class CircuitBreaker {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    int failure_threshold = 3;
    std::chrono::milliseconds initial_pause{std::chrono::seconds(5)};
    std::chrono::milliseconds max_pause{std::chrono::minutes(5)};
  };

  enum class State { closed, open, half_open };

  struct Admission {
    bool allowed = true;
    Clock::time_point retry_at;  // when not allowed: when to ask again
  };

  CircuitBreaker() = default;
  explicit CircuitBreaker(Options options) : options_(options) {}

  // Closed: every call goes. Open: none until the pause is over; then one
  // trial call (half-open) while the others keep waiting.
  Admission admit(Clock::time_point now);
  // What admit would answer, changing nothing: a call that needs two
  // breakers' leave asks both before taking either's trial.
  Admission peek(Clock::time_point now) const;

  // A trial admitted but never made (the call gave way to something else):
  // the next admit may try again at once.
  void release_trial();

  // Each returns true when the state changed (the caller logs changes only).
  bool record_success();
  bool record_failure(Clock::time_point now);
  // A failure an operator has to fix (read-only, permission denied): no
  // point in trying the threshold's worth first, the pause begins now.
  bool trip(Clock::time_point now);

  State state() const { return state_; }
  int consecutive_failures() const { return failures_; }
  std::chrono::milliseconds current_pause() const { return pause_; }
  // When open: when the pause ends.
  Clock::time_point paused_until() const { return open_until_; }

 private:
  bool open(Clock::time_point now);

  Options options_;
  State state_ = State::closed;
  int failures_ = 0;
  std::chrono::milliseconds pause_{0};
  Clock::time_point open_until_;
};

const char* to_string(CircuitBreaker::State state);

}  // namespace exportd
