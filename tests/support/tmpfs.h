// A small tmpfs mounted for a test, to be remounted read-only and back:
// root ignores permission bits, a read-only mount it cannot.
#pragma once

#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace exportd::testing {

class Tmpfs {
 public:
  explicit Tmpfs(std::string path) : path_(std::move(path)) {
    if (::mount("tmpfs", path_.c_str(), "tmpfs", 0, "size=4m") != 0) {
      error_ = std::strerror(errno);
    }
  }
  ~Tmpfs() {
    if (error_.empty()) {
      ::umount2(path_.c_str(), MNT_DETACH);
    }
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;

  // Empty when mounted, else why not.
  const std::string& error() const { return error_; }
  bool set_read_only(bool read_only) {
    const unsigned long flags = MS_REMOUNT | (read_only ? MS_RDONLY : 0);
    return ::mount(nullptr, path_.c_str(), nullptr, flags, "size=4m") == 0;
  }

 private:
  std::string path_;
  std::string error_;
};

}  // namespace exportd::testing
