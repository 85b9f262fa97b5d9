// A run that fails is logged and tried again at the next hour: retention is
// never urgent, and it must never stop the daemon.
#include "app/retention_schedule.h"

#include "domain/failure.h"
#include "logging/logging.h"

namespace exportd {

RetentionSchedule::RetentionSchedule(Retention& retention, Metrics& metrics, RetentionConfig config,
                                     RetentionScheduleOptions options)
    : retention_(retention), metrics_(metrics), options_(options), config_(config) {}

RetentionSchedule::~RetentionSchedule() {
  stop();
}

void RetentionSchedule::start() {
  thread_ = std::jthread([this](const std::stop_token& stop) { run_thread(stop); });
}

void RetentionSchedule::request_stop() {
  thread_.request_stop();  // wakes the wait on wake_
}

void RetentionSchedule::stop() {
  request_stop();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void RetentionSchedule::update(const RetentionConfig& config) {
  std::lock_guard lock(mutex_);
  config_ = config;
}

void RetentionSchedule::run_thread(const std::stop_token& stop) {
  auto next = std::chrono::steady_clock::now() + options_.first_run;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_until(lock, stop, next, [] { return false; });
      if (stop.stop_requested()) {
        return;
      }
    }
    run_once(stop);
    next = std::chrono::steady_clock::now() + options_.every;
  }
}

void RetentionSchedule::run_once(const std::stop_token& stop) {
  RetentionConfig config;
  {
    std::lock_guard lock(mutex_);
    config = config_;
  }
  try {
    const auto report = retention_.run(config, false, stop);
    if (report.skipped) {
      log_event(Level::debug, "retention skipped: another process is pruning", {});
      return;
    }
    nlohmann::json removed = nlohmann::json::object();
    for (const auto& [kind, count] : report.removed) {
      removed[std::string(to_string(kind))] = count;
      if (count > 0) {
        metrics_.pruned(kind, count);
      }
    }
    log_event(Level::info, "retention run", {{"removed", removed}, {"notes", report.notes}});
    if (!report.failures.empty()) {
      log_event(Level::warn, "retention incomplete", {{"failures", report.failures}});
    }
  } catch (const std::exception& e) {
    log_event(Level::warn, "retention failed",
              {{"error", e.what()}, {"category", to_string(failure_kind_of(e))}});
  }
}

}  // namespace exportd
