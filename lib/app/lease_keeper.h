// The leases of every export the workers have claimed and not yet released,
// renewed every lease / 3 on a thread of its own, whatever the workers are
// doing: a dropzone call may block for its whole timeout, and a lease that
// lapsed meanwhile would let another worker deliver the export again
// (docs/architecture.md, "Delivery protocol").
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "ports/export_queue.h"

namespace exportd {

class LeaseKeeper {
 public:
  // `open_queue` runs on the keeper's thread: the keeper's own queue (its own
  // database connection), so a renewal never waits for a worker's.
  LeaseKeeper(std::function<std::unique_ptr<ExportQueue>()> open_queue,
              std::chrono::milliseconds lease);
  ~LeaseKeeper();  // stops the thread and joins it
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  // From claim until the batch is recorded or released.
  void hold(const std::vector<ClaimedExport>& batch);
  void release(const std::vector<ClaimedExport>& batch);

 private:
  void run(const std::stop_token& stop, const std::function<std::unique_ptr<ExportQueue>()>& open);

  std::chrono::milliseconds lease_;
  std::mutex mutex_;
  std::condition_variable_any stopped_;        // only ever woken by a stop
  std::map<std::string, std::string> leases_;  // export id -> lease owner; guarded by mutex_
  std::jthread thread_;                        // last: stopped before the members above go
};

}  // namespace exportd
