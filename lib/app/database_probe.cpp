// The probe's thread asks, records the answer, and sleeps until the next
// question or a stop.
#include "app/database_probe.h"

#include "logging/logging.h"

namespace exportd {

DatabaseProbe::DatabaseProbe(Ask ask, std::chrono::milliseconds interval,
                             std::chrono::milliseconds max_age)
    : ask_(std::move(ask)),
      interval_(interval),
      max_age_(max_age),
      thread_([this](const std::stop_token& stop) { run(stop); }) {}

DatabaseProbe::~DatabaseProbe() = default;

bool DatabaseProbe::reachable() {
  std::lock_guard lock(mutex_);
  return reachable_locked();
}

std::optional<long long> DatabaseProbe::pending() {
  std::lock_guard lock(mutex_);
  return reachable_locked() ? pending_ : std::nullopt;
}

bool DatabaseProbe::reachable_locked() {
  const bool hanging = asked_at_ && Clock::now() - *asked_at_ > max_age_;
  const bool reachable = answered_ && !hanging;
  if (!reachable) {
    report(false);  // said now, not when the hanging question gives up
  }
  return reachable;
}

void DatabaseProbe::report(bool reachable) {
  if (reachable_ == reachable) {
    return;
  }
  if (reachable) {
    if (reachable_.has_value()) {
      log_event(Level::info, "database answers again", {});
    }
  } else {
    log_event(Level::warn, "database does not answer",
              {{"within_ms", static_cast<long long>(max_age_.count())}});
  }
  reachable_ = reachable;
}

void DatabaseProbe::run(const std::stop_token& stop) {
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    asked_at_ = Clock::now();
    lock.unlock();
    const auto answer = ask_();
    lock.lock();
    asked_at_.reset();
    answered_ = answer.has_value();
    if (answer) {
      pending_ = answer;
    }
    report(answered_);
    stopped_.wait_for(lock, stop, interval_, [] { return false; });
  }
}

}  // namespace exportd
