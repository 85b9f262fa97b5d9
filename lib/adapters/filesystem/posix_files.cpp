// The file handling the local dropzone and the directory archive share.
#include "adapters/filesystem/posix_files.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <sstream>

#include "adapters/dropzone_common.h"
#include "domain/file_name.h"

namespace exportd {

FailureKind classify_errno(int err) {
  switch (err) {
    case EACCES:
    case EPERM:
    case EROFS:
      return FailureKind::unavailable;  // the mount or the permissions, not the file
    case ELOOP:
    case ENOTDIR:
    case ENAMETOOLONG:
    case EISDIR:
      return FailureKind::permanent;
    default:  // ENOSPC, EDQUOT, EIO, ...
      return FailureKind::transient;
  }
}

void fail_errno(int err, const std::string& operation) {
  throw Failure(classify_errno(err), operation + ": " + std::strerror(err));
}

void Fd::close(const std::string& path) {
  const int fd = fd_;
  fd_ = -1;
  if (io_.close(fd) != 0 && errno != EINTR) {
    fail_errno(errno, cannot(DropzoneOp::close, path));
  }
}

void write_synced(PosixIo& io, int fd, std::string_view bytes, bool sync, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = io.write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      fail_errno(errno, cannot(DropzoneOp::write, path));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  if (sync && io.fsync(fd) != 0) {
    fail_errno(errno, cannot(DropzoneOp::fsync, path));
  }
}

bool write_through_temp_file(PosixIo& io, int dirfd, const std::string& dir_path,
                             const std::string& name, std::string_view bytes, mode_t mode,
                             bool sync, bool replace) {
  const std::string temp_name = temp_file_name(name, new_temp_token());
  const std::string temp_path = dir_path + "/" + temp_name;
  const std::string final_path = dir_path + "/" + name;
  const TempFileInProgress in_progress(temp_name);
  Fd file(io, io.openat(dirfd, temp_name.c_str(),
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (file.get() < 0) {
    fail_errno(errno, cannot(DropzoneOp::create, temp_path));
  }
  try {
    write_synced(io, file.get(), bytes, sync, temp_path);
    file.close(temp_path);
    const int renamed = replace
                            ? io.renameat(dirfd, temp_name.c_str(), dirfd, name.c_str())
                            : io.renameat_noreplace(dirfd, temp_name.c_str(), dirfd, name.c_str());
    if (renamed != 0 && !replace && errno == EEXIST) {
      io.unlinkat(dirfd, temp_name.c_str(), 0);
      return false;
    }
    if (renamed != 0) {
      fail_errno(errno, cannot(DropzoneOp::rename, temp_path, final_path));
    }
  } catch (...) {
    io.unlinkat(dirfd, temp_name.c_str(), 0);
    throw;
  }
  return true;
}

int open_directory_nofollow(PosixIo& io, const std::string& path,
                            const std::function<bool(const std::string& walked)>& may_create,
                            std::string& missing) {
  int fd = io.openat(AT_FDCWD, "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0) {
    fail_errno(errno, cannot(DropzoneOp::open_directory, "/"));
  }
  std::string walked;
  std::istringstream parts(path);
  std::string part;
  while (std::getline(parts, part, '/')) {
    if (part.empty()) {
      continue;
    }
    walked += "/" + part;
    int next = io.openat(fd, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
    if (next < 0 && errno == ENOENT) {
      if (!may_create(walked)) {
        io.close(fd);
        missing = walked;
        return -1;
      }
      if (io.mkdirat(fd, part.c_str(), 0750) == 0 || errno == EEXIST) {
        next = io.openat(fd, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
      }
    }
    const int saved = errno;
    // O_DIRECTORY | O_NOFOLLOW says ENOTDIR for a symlink and a plain file alike.
    struct stat st {};
    const bool symlink =
        saved == ELOOP ||
        (saved == ENOTDIR && io.fstatat(fd, part.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
         S_ISLNK(st.st_mode));
    io.close(fd);
    if (next < 0 && (symlink || saved == ENOTDIR)) {
      throw Failure(classify_errno(saved),
                    not_a_directory(DropzoneOp::open_directory, walked, symlink));
    }
    if (next < 0) {
      fail_errno(saved, cannot(DropzoneOp::open_directory, walked));
    }
    fd = next;
  }
  return fd;
}

std::vector<DirectoryEntry> regular_files(PosixIo& io, int dirfd,
                                          const std::vector<std::string>& names) {
  std::vector<DirectoryEntry> files;
  for (const auto& name : names) {
    struct stat st {};
    if (io.fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
      files.push_back({name, st.st_size, std::chrono::system_clock::from_time_t(st.st_mtime)});
    }
  }
  return files;
}

void sweep_abandoned_temp_files(PosixIo& io, int dirfd, const std::string& directory,
                                SweptDirectories& swept) {
  if (!swept.first_visit(directory)) {
    return;
  }
  std::vector<std::string> names;
  if (io.list_names(dirfd, names) != 0) {
    return;  // the write that follows reports a broken directory properly
  }
  // Only temp names are looked at: a directory the ERP is slow to empty may hold many files.
  std::erase_if(names, [](const std::string& name) { return !is_temp_file_name(name); });
  for (const auto& name :
       abandoned_temp_files(regular_files(io, dirfd, names), std::chrono::system_clock::now())) {
    io.unlinkat(dirfd, name.c_str(), 0);
  }
}

int open_for_reading(PosixIo& io, int dirfd, const std::string& name, const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer.
  const int fd = io.openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);
  if (fd < 0 && errno == ELOOP) {
    throw Failure(FailureKind::permanent, not_a_regular_file(path, "a symlink"));
  }
  if (fd < 0 && errno != ENOENT) {
    fail_errno(errno, cannot(DropzoneOp::open, path));
  }
  return fd;
}

std::optional<std::string> read_regular_file(PosixIo& io, int fd, std::optional<size_t> max_bytes,
                                             const std::string& path) {
  struct stat st {};
  if (io.fstatat(fd, "", &st, AT_EMPTY_PATH) != 0) {
    fail_errno(errno, cannot(DropzoneOp::check, path));
  }
  if (!S_ISREG(st.st_mode)) {
    throw Failure(FailureKind::permanent, not_a_regular_file(path));
  }
  const size_t cap = max_bytes.value_or(static_cast<size_t>(st.st_size));
  if (static_cast<size_t>(st.st_size) > cap) {
    return std::nullopt;
  }
  return read_capped(cap, [&](char* into, size_t size) {
    for (;;) {
      const ssize_t n = io.read(fd, into, size);
      if (n >= 0) {
        return static_cast<size_t>(n);
      }
      if (errno != EINTR && errno != EAGAIN) {
        fail_errno(errno, cannot(DropzoneOp::read, path));
      }
    }
  });
}

}  // namespace exportd
