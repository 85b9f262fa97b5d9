// The watcher sleeps until the earliest deadline. Guards remove their entry
// under the mutex before the caller can close the socket, so a shutdown never
// hits a descriptor number that was reused by something else.
#include "adapters/socket_deadlines.h"

#include <sys/socket.h>

#include <algorithm>

namespace exportd {

SocketDeadlines::SocketDeadlines() : watcher_([this] { watch(); }) {}

SocketDeadlines::~SocketDeadlines() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  watcher_.join();
}

SocketDeadlines::Guard::~Guard() {
  if (owner_ != nullptr) {
    std::lock_guard lock(owner_->mutex_);
    owner_->entries_.erase(id_);
  }
}

bool SocketDeadlines::Guard::expired() const {
  std::lock_guard lock(owner_->mutex_);
  const auto it = owner_->entries_.find(id_);
  return it != owner_->entries_.end() && it->second.expired;
}

SocketDeadlines::Guard SocketDeadlines::arm(int fd, std::chrono::milliseconds timeout) {
  std::uint64_t id = 0;
  {
    std::lock_guard lock(mutex_);
    id = next_id_++;
    Entry& entry = entries_[id] = {fd, std::chrono::steady_clock::now() + timeout};
    if (aborting_) {
      expire(entry);
    }
  }
  changed_.notify_all();
  return Guard(*this, id);
}

void SocketDeadlines::abort_all() {
  std::lock_guard lock(mutex_);
  aborting_ = true;
  for (auto& [id, entry] : entries_) {
    expire(entry);
  }
}

void SocketDeadlines::expire(Entry& entry) {
  if (!entry.expired) {
    entry.expired = true;
    ::shutdown(entry.fd, SHUT_RDWR);
  }
}

void SocketDeadlines::watch() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto next = std::chrono::steady_clock::time_point::max();
    const auto now = std::chrono::steady_clock::now();
    for (auto& [id, entry] : entries_) {
      if (entry.expired) {
        continue;
      }
      if (entry.deadline <= now) {
        expire(entry);
      } else {
        next = std::min(next, entry.deadline);
      }
    }
    if (next == std::chrono::steady_clock::time_point::max()) {
      changed_.wait(lock);
    } else {
      changed_.wait_until(lock, next);
    }
  }
}

}  // namespace exportd
