// What the filesystem adapters (the local dropzone, the directory archive)
// share, so both write, read and fail the same way: errno to failure kind,
// descriptors closed on every path, complete flushed writes, directories
// opened without following a symlink, and the sweep of abandoned temp files.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/filesystem/posix_io.h"
#include "adapters/temp_files.h"
#include "domain/failure.h"
#include "ports/dropzone.h"

namespace exportd {

// ENOSPC, EDQUOT, EIO and the unknown: transient; EROFS, EACCES, EPERM:
// unavailable (the mount or the permissions, not the file); ELOOP, ENOTDIR,
// ENAMETOOLONG, EISDIR: permanent.
FailureKind classify_errno(int err);

// Throws `operation: strerror(err)` with the kind classify_errno gives.
[[noreturn]] void fail_errno(int err, const std::string& operation);

// A descriptor closed on every path.
class Fd {
 public:
  Fd(PosixIo& io, int fd) : io_(io), fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() noexcept {
    if (fd_ >= 0) {
      io_.close(fd_);
    }
  }
  int get() const { return fd_; }
  // Explicit close reports what the destructor can only swallow; `path` names it.
  void close(const std::string& path);

 private:
  PosixIo& io_;
  int fd_;
};

// Writes all of `bytes` to `fd` (EINTR retried), then flushes them to stable
// storage when `sync`. `path` names the file in failures.
void write_synced(PosixIo& io, int fd, std::string_view bytes, bool sync, const std::string& path);

// Writes `bytes` under a temp name in the directory `dirfd` (`dir_path`),
// created with `mode` (less the umask), flushes them when `sync` and renames
// the temp file to `name`: over a file already there when `replace`, else
// leaving that file alone and returning false. The temp file never outlives
// a failure. Not flushed: the caller flushes the directory.
bool write_through_temp_file(PosixIo& io, int dirfd, const std::string& dir_path,
                             const std::string& name, std::string_view bytes, mode_t mode,
                             bool sync, bool replace);

// Opens the absolute, normalised directory `path` from "/" one component at
// a time with O_NOFOLLOW, so no symlink on the way is ever followed (a
// symlink or a plain file on the way is permanent). A missing component is
// created (0750) when `may_create(walked)` is true for its path; otherwise -1
// is returned and its path put in `missing`. Throws for every other error.
int open_directory_nofollow(PosixIo& io, const std::string& path,
                            const std::function<bool(const std::string& walked)>& may_create,
                            std::string& missing);

// The regular files among `names` in the directory `dirfd`, symlinks not followed.
std::vector<DirectoryEntry> regular_files(PosixIo& io, int dirfd,
                                          const std::vector<std::string>& names);

// Removes the abandoned temp files of `dirfd` (see is_abandoned_temp_file)
// the first time `swept` is asked about `directory`; best effort.
void sweep_abandoned_temp_files(PosixIo& io, int dirfd, const std::string& directory,
                                SweptDirectories& swept);

// Opens `name` in `dirfd` for reading without following a symlink (permanent)
// or waiting on a FIFO. Returns -1 with errno ENOENT when there is no such
// file; throws for every other error. `path` names it in failures.
int open_for_reading(PosixIo& io, int dirfd, const std::string& name, const std::string& path);

// The contents of the file open at `fd`, or nullopt when it holds more than
// `max_bytes` (without a cap: more than its size when opened, for files that
// are only ever replaced by a rename, never grown). Anything but a regular
// file is permanent.
std::optional<std::string> read_regular_file(PosixIo& io, int fd, std::optional<size_t> max_bytes,
                                             const std::string& path);

}  // namespace exportd
