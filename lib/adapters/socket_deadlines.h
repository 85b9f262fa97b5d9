// Deadlines for blocking network calls that have no timeout of their own.
// libssh 0.10 can wait forever inside an SFTP call when the server stops
// answering but the TCP connection stays up; a call armed here has its socket
// shut down when the deadline passes, which makes the blocked read return.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>

namespace exportd {

class SocketDeadlines {
 public:
  SocketDeadlines();
  ~SocketDeadlines();  // stops the watcher thread
  SocketDeadlines(const SocketDeadlines&) = delete;
  SocketDeadlines& operator=(const SocketDeadlines&) = delete;

  // Arms a deadline for `fd` for the guard's lifetime. The socket must stay
  // open until the guard is gone: it is only ever shut down, never closed.
  class Guard {
   public:
    Guard(SocketDeadlines& owner, std::uint64_t id) : owner_(&owner), id_(id) {}
    Guard(Guard&& other) noexcept : owner_(other.owner_), id_(other.id_) { other.owner_ = nullptr; }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    Guard& operator=(Guard&&) = delete;
    ~Guard();
    // True when the deadline passed (or abort_all ran) and the socket was shut down.
    bool expired() const;

   private:
    SocketDeadlines* owner_;
    std::uint64_t id_;
  };

  Guard arm(int fd, std::chrono::milliseconds timeout);

  // Shuts every armed socket down now, and any armed from now on at once:
  // the daemon is stopping and no call may hold it up.
  void abort_all();

 private:
  struct Entry {
    int fd;
    std::chrono::steady_clock::time_point deadline;
    bool expired = false;
  };

  void watch();
  void expire(Entry& entry);

  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::uint64_t, Entry> entries_;
  std::uint64_t next_id_ = 0;
  bool aborting_ = false;
  bool stopping_ = false;
  std::thread watcher_;
};

}  // namespace exportd
