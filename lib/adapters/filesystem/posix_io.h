// The system calls the filesystem dropzone makes, behind one thin seam so
// tests can inject EINTR, ENOSPC, EACCES at any step.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace exportd {

class PosixIo {
 public:
  virtual ~PosixIo() = default;
  // Each returns what the system call returns and leaves errno set.
  virtual int openat(int dirfd, const char* path, int flags, mode_t mode);
  virtual ssize_t read(int fd, void* buf, size_t count);
  virtual ssize_t write(int fd, const void* buf, size_t count);
  virtual int fsync(int fd);
  virtual int close(int fd);
  virtual int renameat_noreplace(int from_dirfd, const char* from, int to_dirfd, const char* to);
  // Replaces the target, as rename(2) does.
  virtual int renameat(int from_dirfd, const char* from, int to_dirfd, const char* to);
  virtual int unlinkat(int dirfd, const char* path, int flags);
  virtual int mkdirat(int dirfd, const char* path, mode_t mode);
  virtual int fstatat(int dirfd, const char* path, struct stat* st, int flags);
  // Names in a directory (no "." and ".."); -1 and errno on failure.
  virtual int list_names(int dirfd, std::vector<std::string>& names);
};

// The process-wide real implementation.
PosixIo& real_posix_io();

}  // namespace exportd
