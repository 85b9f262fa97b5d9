// Asks the database, on a thread of its own, how many exports are PENDING,
// so that /healthz, the service status and the supervising thread read an
// answer at once and never wait on a database that stopped answering. A
// database that gave no answer for `max_age` is unreachable, even while the
// question is still hanging. Logs once per change of state.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>

namespace exportd {

class DatabaseProbe {
 public:
  using Clock = std::chrono::steady_clock;
  // nullopt when the database did not answer.
  using Ask = std::function<std::optional<long long>()>;

  DatabaseProbe(Ask ask, std::chrono::milliseconds interval, std::chrono::milliseconds max_age);
  ~DatabaseProbe();  // waits for a question in flight: abort database calls first
  DatabaseProbe(const DatabaseProbe&) = delete;
  DatabaseProbe& operator=(const DatabaseProbe&) = delete;

  // False once a question failed, or hangs longer than `max_age`; true
  // while the first one is still on its way.
  bool reachable();
  // The last PENDING count while reachable; nullopt before the first one.
  std::optional<long long> pending();

 private:
  void run(const std::stop_token& stop);
  bool reachable_locked();
  void report(bool reachable);

  Ask ask_;
  std::chrono::milliseconds interval_;
  std::chrono::milliseconds max_age_;
  std::mutex mutex_;
  std::condition_variable_any stopped_;  // only ever woken by a stop
  std::optional<long long> pending_;
  bool answered_ = true;                       // the last question's outcome
  std::optional<Clock::time_point> asked_at_;  // the question in flight
  std::optional<bool> reachable_;              // as last logged
  std::jthread thread_;  // last: stopped and joined before the members above go
};

}  // namespace exportd
