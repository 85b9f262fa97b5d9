// The breaker's state changes: closed, open for a doubling pause, half open
// for one trial call.
#include "domain/circuit_breaker.h"

#include <algorithm>

namespace exportd {

CircuitBreaker::Admission CircuitBreaker::peek(Clock::time_point now) const {
  switch (state_) {
    case State::closed:
      return {true, now};
    case State::open:
      return now < open_until_ ? Admission{false, open_until_} : Admission{true, now};
    case State::half_open:
      // The trial is still running: the others wait as long as it may take.
      return {false, now + pause_};
  }
  return {true, now};
}

CircuitBreaker::Admission CircuitBreaker::admit(Clock::time_point now) {
  const Admission admission = peek(now);
  if (admission.allowed && state_ == State::open) {
    state_ = State::half_open;
  }
  return admission;
}

void CircuitBreaker::release_trial() {
  if (state_ == State::half_open) {
    state_ = State::open;  // its pause is over already
  }
}

bool CircuitBreaker::record_success() {
  failures_ = 0;
  pause_ = std::chrono::milliseconds(0);
  const bool changed = state_ != State::closed;
  state_ = State::closed;
  return changed;
}

bool CircuitBreaker::record_failure(Clock::time_point now) {
  ++failures_;
  if (state_ == State::closed && failures_ < options_.failure_threshold) {
    return false;
  }
  return open(now);
}

bool CircuitBreaker::trip(Clock::time_point now) {
  ++failures_;
  return open(now);
}

bool CircuitBreaker::open(Clock::time_point now) {
  if (state_ == State::open && now < open_until_) {
    return false;  // a call admitted before the pause began
  }
  // Else a failure after the pause ended: a trial no one took through admit
  // (an ack poll only looks) failed as a trial would.
  pause_ = pause_.count() == 0 ? options_.initial_pause : std::min(pause_ * 2, options_.max_pause);
  open_until_ = now + pause_;
  state_ = State::open;
  return true;
}

const char* to_string(CircuitBreaker::State state) {
  switch (state) {
    case CircuitBreaker::State::closed:
      return "closed";
    case CircuitBreaker::State::open:
      return "open";
    case CircuitBreaker::State::half_open:
      return "half_open";
  }
  return "closed";
}

}  // namespace exportd
