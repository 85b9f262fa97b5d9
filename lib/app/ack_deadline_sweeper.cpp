// The sweeper's rounds and the warning each overdue export gets.
#include "app/ack_deadline_sweeper.h"

#include "logging/logging.h"

namespace exportd {

namespace {

void log_change(const AckDeadlineChange& change) {
  log_event(Level::warn,
            change.action == AckTimeoutAction::fail
                ? "export failed: the ERP did not answer within its ack deadline"
                : "export overdue: the ERP has not answered within its ack deadline",
            {{"export_id", change.export_id},
             {"org", change.org},
             {"connection_id", change.connection_id},
             {"sent_at", change.sent_at},
             {"ack_timeout_s", change.ack_timeout_s}});
}

}  // namespace

AckDeadlineSweeper::AckDeadlineSweeper(std::unique_ptr<AckDeadlines> store,
                                       std::chrono::seconds default_timeout, Now now,
                                       std::chrono::milliseconds interval)
    : store_(std::move(store)),
      default_timeout_s_(default_timeout.count()),
      now_(std::move(now)),
      interval_(interval) {}

AckDeadlineSweeper::~AckDeadlineSweeper() = default;

std::size_t AckDeadlineSweeper::sweep_once(const std::stop_token& stop) {
  std::size_t changed = 0;
  while (!stop.stop_requested()) {
    const auto batch =
        store_->sweep(now_(), std::chrono::seconds(default_timeout_s_.load()), kBatch);
    if (!batch) {
      break;  // another host sweeps this round
    }
    for (const auto& change : *batch) {
      log_change(change);
    }
    changed += batch->size();
    if (batch->size() < static_cast<std::size_t>(kBatch)) {
      break;
    }
  }
  return changed;
}

void AckDeadlineSweeper::start() {
  thread_ = std::jthread([this](const std::stop_token& stop) { run(stop); });
}

void AckDeadlineSweeper::request_stop() {
  thread_.request_stop();
}

void AckDeadlineSweeper::stop() {
  thread_ = {};  // requests the stop and joins
}

void AckDeadlineSweeper::update(std::chrono::seconds default_timeout) {
  default_timeout_s_ = default_timeout.count();
}

void AckDeadlineSweeper::run(const std::stop_token& stop) {
  bool failing = false;
  while (!stop.stop_requested()) {
    try {
      sweep_once(stop);
      if (failing) {
        log_event(Level::info, "ack deadline sweep works again", {});
      }
      failing = false;
    } catch (const std::exception& e) {
      // Said once per outage; the next round tries again.
      if (!failing) {
        log_event(Level::error, "ack deadline sweep failed", {{"error", e.what()}});
      }
      failing = true;
    }
    std::unique_lock lock(mutex_);
    stopped_.wait_for(lock, stop, interval_, [] { return false; });
  }
}

}  // namespace exportd
