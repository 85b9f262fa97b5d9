// The real system calls behind PosixIo.
#include "adapters/filesystem/posix_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>

namespace exportd {

int PosixIo::openat(int dirfd, const char* path, int flags, mode_t mode) {
  return ::openat(dirfd, path, flags, mode);
}
ssize_t PosixIo::read(int fd, void* buf, size_t count) {
  return ::read(fd, buf, count);
}
ssize_t PosixIo::write(int fd, const void* buf, size_t count) {
  return ::write(fd, buf, count);
}
int PosixIo::fsync(int fd) {
  return ::fsync(fd);
}
int PosixIo::close(int fd) {
  return ::close(fd);
}
int PosixIo::renameat_noreplace(int from_dirfd, const char* from, int to_dirfd, const char* to) {
  return ::renameat2(from_dirfd, from, to_dirfd, to, RENAME_NOREPLACE);
}
int PosixIo::renameat(int from_dirfd, const char* from, int to_dirfd, const char* to) {
  return ::renameat(from_dirfd, from, to_dirfd, to);
}
int PosixIo::unlinkat(int dirfd, const char* path, int flags) {
  return ::unlinkat(dirfd, path, flags);
}
int PosixIo::mkdirat(int dirfd, const char* path, mode_t mode) {
  return ::mkdirat(dirfd, path, mode);
}
int PosixIo::fstatat(int dirfd, const char* path, struct stat* st, int flags) {
  return ::fstatat(dirfd, path, st, flags);
}

int PosixIo::list_names(int dirfd, std::vector<std::string>& names) {
  // fdopendir takes ownership of the descriptor, so hand it a duplicate.
  const int copy = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) {
    return -1;
  }
  DIR* dir = ::fdopendir(copy);
  if (dir == nullptr) {
    const int saved = errno;
    ::close(copy);
    errno = saved;
    return -1;
  }
  ::rewinddir(dir);
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") {
      names.push_back(name);
    }
  }
  ::closedir(dir);
  return 0;
}

PosixIo& real_posix_io() {
  static PosixIo io;
  return io;
}

}  // namespace exportd
