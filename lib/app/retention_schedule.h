// Retention in the daemon: a thread of its own runs it shortly after start
// and then once an hour with the [retention] keys as they are now (a reload
// changes them), logs what it removed and counts it in the metrics.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>

#include "app/retention.h"
#include "ports/metrics.h"

namespace exportd {

struct RetentionScheduleOptions {
  // Not at once: a daemon that starts has deliveries to catch up with first.
  std::chrono::milliseconds first_run{std::chrono::minutes(1)};
  std::chrono::milliseconds every{std::chrono::hours(1)};
};

class RetentionSchedule {
 public:
  RetentionSchedule(Retention& retention, Metrics& metrics, RetentionConfig config,
                    RetentionScheduleOptions options = {});
  ~RetentionSchedule();  // stops and joins
  RetentionSchedule(const RetentionSchedule&) = delete;
  RetentionSchedule& operator=(const RetentionSchedule&) = delete;

  void start();
  // A run in progress stops after its current batch.
  void request_stop();
  void stop();
  // A reload's keys: the next run uses them.
  void update(const RetentionConfig& config);

 private:
  void run_thread(const std::stop_token& stop);
  void run_once(const std::stop_token& stop);

  Retention& retention_;
  Metrics& metrics_;
  RetentionScheduleOptions options_;
  std::mutex mutex_;  // guards config_
  RetentionConfig config_;
  std::condition_variable_any wake_;
  std::jthread thread_;
};

}  // namespace exportd
