// Publishes the connections' delivery states for `status` (CircuitLog): each
// change noted here goes out within a second, the latest per connection
// only, from a thread of its own, so no worker ever waits for the database
// to hear of a breaker. What cannot be published now is kept for the next
// try; the failure is logged once, and the recovery.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "ports/circuit_log.h"

namespace exportd {

class CircuitPublisher {
 public:
  explicit CircuitPublisher(std::unique_ptr<CircuitLog> log,
                            std::chrono::milliseconds every = std::chrono::seconds(1));
  ~CircuitPublisher();  // stops: one last publication, then joins
  CircuitPublisher(const CircuitPublisher&) = delete;
  CircuitPublisher& operator=(const CircuitPublisher&) = delete;

  void start();
  void stop();
  // Cheap and never blocks on the database: safe under a caller's lock.
  void note(const std::string& connection_id, CircuitBreaker::State state,
            int consecutive_failures);

 private:
  void run(std::stop_token stop);
  void publish();

  std::unique_ptr<CircuitLog> log_;
  std::chrono::milliseconds every_;
  std::mutex mutex_;  // guards pending_
  std::condition_variable_any noted_;
  std::map<std::string, CircuitChange> pending_;
  bool failing_ = false;  // only the publishing thread touches it
  std::jthread thread_;
};

}  // namespace exportd
