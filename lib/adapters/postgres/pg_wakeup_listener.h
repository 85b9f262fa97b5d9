// LISTENs for new PENDING exports and calls `on_wakeup` within milliseconds.
// Reconnects (and LISTENs again) after the database restarts. Calls
// `on_wakeup` after every LISTEN, since work queued before it sent no
// notification this connection could hear.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace exportd {

class PgWakeupListener {
 public:
  PgWakeupListener(std::string database_url, std::function<void()> on_wakeup);
  ~PgWakeupListener();  // stops and joins
  PgWakeupListener(const PgWakeupListener&) = delete;
  PgWakeupListener& operator=(const PgWakeupListener&) = delete;

  void stop();

 private:
  void run();
  // Waits up to `ms` for `fd` to be readable or a stop; false on stop.
  bool wait_readable(int fd, int ms);

  std::string database_url_;
  std::function<void()> on_wakeup_;
  int stop_fd_;  // eventfd: a stop interrupts any wait at once
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace exportd
