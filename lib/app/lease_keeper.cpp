// The keeper's loop: one renewal of everything held per lease / 3.
#include "app/lease_keeper.h"

#include "logging/logging.h"

namespace exportd {

LeaseKeeper::LeaseKeeper(std::function<std::unique_ptr<ExportQueue>()> open_queue,
                         std::chrono::milliseconds lease)
    : lease_(lease), thread_([this, open = std::move(open_queue)](const std::stop_token& stop) {
        run(stop, open);
      }) {}

LeaseKeeper::~LeaseKeeper() = default;

void LeaseKeeper::hold(const std::vector<ClaimedExport>& batch) {
  std::lock_guard lock(mutex_);
  for (const auto& item : batch) {
    leases_[item.export_id] = item.lease_owner;
  }
}

void LeaseKeeper::release(const std::vector<ClaimedExport>& batch) {
  std::lock_guard lock(mutex_);
  for (const auto& item : batch) {
    leases_.erase(item.export_id);
  }
}

void LeaseKeeper::run(const std::stop_token& stop,
                      const std::function<std::unique_ptr<ExportQueue>()>& open) {
  std::unique_ptr<ExportQueue> queue = open();
  while (!stop.stop_requested()) {
    std::vector<LeaseHolder> held;
    {
      std::unique_lock lock(mutex_);
      if (stopped_.wait_for(lock, stop, lease_ / 3, [] { return false; }) ||
          stop.stop_requested()) {
        return;
      }
      for (const auto& [export_id, owner] : leases_) {
        held.push_back({export_id, owner});
      }
    }
    if (held.empty()) {
      continue;
    }
    try {
      queue->renew(held, lease_);
    } catch (const std::exception& e) {
      log_event(Level::warn, "cannot renew leases", {{"count", held.size()}, {"error", e.what()}});
    }
  }
}

}  // namespace exportd
