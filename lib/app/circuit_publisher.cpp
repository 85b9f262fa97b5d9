// Changes noted while a publication runs wait for the next one; a failed
// publication puts its changes back unless newer ones came meanwhile.
#include "app/circuit_publisher.h"

#include <vector>

#include "logging/logging.h"

namespace exportd {

CircuitPublisher::CircuitPublisher(std::unique_ptr<CircuitLog> log, std::chrono::milliseconds every)
    : log_(std::move(log)), every_(every) {}

CircuitPublisher::~CircuitPublisher() {
  stop();
}

void CircuitPublisher::start() {
  thread_ = std::jthread([this](std::stop_token stop) { run(std::move(stop)); });
}

void CircuitPublisher::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

void CircuitPublisher::note(const std::string& connection_id, CircuitBreaker::State state,
                            int consecutive_failures) {
  std::lock_guard lock(mutex_);
  pending_[connection_id] = {connection_id, state, consecutive_failures,
                             std::chrono::system_clock::now()};
}

void CircuitPublisher::run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(mutex_);
      noted_.wait_for(lock, stop, every_, [] { return false; });
    }
    if (!stop.stop_requested()) {
      publish();
    }
  }
  publish();  // what was noted last, before the daemon exits
}

void CircuitPublisher::publish() {
  std::map<std::string, CircuitChange> taken;
  {
    std::lock_guard lock(mutex_);
    taken.swap(pending_);
  }
  if (taken.empty()) {
    return;
  }
  std::vector<CircuitChange> changes;
  for (const auto& [id, change] : taken) {
    changes.push_back(change);
  }
  try {
    log_->publish(changes);
    if (failing_) {
      failing_ = false;
      log_event(Level::info, "connection states published again", {});
    }
  } catch (const std::exception& e) {
    if (!failing_) {
      failing_ = true;
      log_event(Level::warn, "cannot publish connection states for status; will retry",
                {{"error", e.what()}});
    }
    std::lock_guard lock(mutex_);
    pending_.merge(taken);  // a newer change noted meanwhile stays, the older is dropped
  }
}

}  // namespace exportd
