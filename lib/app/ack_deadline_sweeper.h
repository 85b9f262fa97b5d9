// The ack deadline sweep (docs/operations.md, "Ack deadlines"), run every
// few seconds on a thread of its own: SENT exports whose ERP has not answered
// within their connection's ack_timeout_s are alerted about once or failed,
// as the connection says, with one warning per export.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>

#include "ports/ack_deadlines.h"

namespace exportd {

class AckDeadlineSweeper {
 public:
  using Now = std::function<std::chrono::system_clock::time_point()>;

  // Deadlines are hours in practice and seconds in tests: a round every 10 s
  // reports any of them at most 10 s late, and a round that finds nothing
  // due costs one index probe per connection.
  static constexpr std::chrono::seconds kInterval{10};
  // Exports changed per transaction, so the rows it locks are held briefly.
  static constexpr int kBatch = 1000;

  // `default_timeout` is [ack] timeout_s; `now` the clock deadlines are
  // measured by (a test's own, so it never sleeps).
  AckDeadlineSweeper(std::unique_ptr<AckDeadlines> store, std::chrono::seconds default_timeout,
                     Now now = std::chrono::system_clock::now,
                     std::chrono::milliseconds interval = kInterval);
  ~AckDeadlineSweeper();  // stops the thread and joins it
  AckDeadlineSweeper(const AckDeadlineSweeper&) = delete;
  AckDeadlineSweeper& operator=(const AckDeadlineSweeper&) = delete;

  // One round: batches until one comes back short, another host holds the
  // sweep or `stop` is requested; logs each export changed. Returns how many
  // were. Throws what the store throws.
  std::size_t sweep_once(const std::stop_token& stop = {});

  // A round now, then one every interval, until stopped.
  void start();
  void request_stop();
  void stop();
  // A reload's [ack] timeout_s; the next round uses it.
  void update(std::chrono::seconds default_timeout);

 private:
  void run(const std::stop_token& stop);

  std::unique_ptr<AckDeadlines> store_;
  std::atomic<std::int64_t> default_timeout_s_;
  Now now_;
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable_any stopped_;  // only ever woken by a stop
  std::jthread thread_;                  // last: stopped before the members above go
};

}  // namespace exportd
