// Why each step: the temp name starts with '.' and ends in '.tmp' so the ERP
// ignores it; fsync before rename so a power cut never leaves a renamed but
// empty file; RENAME_NOREPLACE so a file an earlier attempt delivered is
// never overwritten; the directory fsync (batched by the caller) makes the
// rename itself durable before the database says SENT.
#include "adapters/filesystem/filesystem_dropzone.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <sstream>

#include "adapters/dropzone_common.h"
#include "adapters/temp_files.h"
#include "domain/dropzone_path.h"
#include "domain/failure.h"
#include "domain/file_name.h"

namespace exportd {

namespace {

FailureKind classify_errno(int err) {
  switch (err) {
    case EACCES:
    case EPERM:
    case EROFS:
      return FailureKind::unavailable;  // the mount or the permissions, not the export
    case ELOOP:
    case ENOTDIR:
    case ENAMETOOLONG:
    case EISDIR:
      return FailureKind::permanent;
    default:  // ENOSPC, EDQUOT, EIO, ...
      return FailureKind::transient;
  }
}

[[noreturn]] void fail(int err, const std::string& operation) {
  throw Failure(classify_errno(err), operation + ": " + std::strerror(err));
}

class Fd {
 public:
  Fd(PosixIo& io, int fd) : io_(io), fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) {
      io_.close(fd_);
    }
  }
  int get() const { return fd_; }
  // Explicit close reports what the destructor can only swallow.
  void close(const std::string& what) {
    const int fd = fd_;
    fd_ = -1;
    if (io_.close(fd) != 0 && errno != EINTR) {
      fail(errno, cannot(DropzoneOp::close, what));
    }
  }

 private:
  PosixIo& io_;
  int fd_;
};

}  // namespace

FilesystemDropzone::FilesystemDropzone(const std::vector<std::string>& roots, PosixIo& io)
    : io_(io) {
  for (const auto& root : roots) {
    roots_.push_back(normalize_absolute_path(root));
  }
}

int FilesystemDropzone::open_directory(const std::string& directory, bool create_missing) {
  const std::string path = normalize_absolute_path(directory);
  bool allowed = false;
  for (const auto& root : roots_) {
    allowed = allowed || path_is_within(path, root);
  }
  if (!allowed) {
    throw Failure(FailureKind::permanent,
                  "directory " + quote(path) + " is outside the allowed filesystem_roots");
  }
  int fd = io_.openat(AT_FDCWD, "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0) {
    fail(errno, cannot(DropzoneOp::open_directory, "/"));
  }
  std::string walked;
  std::istringstream parts(path);
  std::string part;
  while (std::getline(parts, part, '/')) {
    if (part.empty()) {
      continue;
    }
    walked += "/" + part;
    int next = io_.openat(fd, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
    if (next < 0 && errno == ENOENT) {
      // Missing directories below a root are created; the root itself must exist.
      bool below_root = false;
      for (const auto& root : roots_) {
        below_root = below_root || (path_is_within(walked, root) && walked != root);
      }
      if (!below_root) {
        io_.close(fd);
        throw Failure(FailureKind::unavailable,
                      cannot(DropzoneOp::open_directory, walked) +
                          ": no such directory (the filesystem root is missing or not mounted)");
      }
      if (!create_missing) {
        io_.close(fd);
        errno = ENOENT;
        return -1;
      }
      if (io_.mkdirat(fd, part.c_str(), 0750) == 0 || errno == EEXIST) {
        next = io_.openat(fd, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
      }
    }
    const int saved = errno;
    // O_DIRECTORY | O_NOFOLLOW says ENOTDIR for a symlink and a plain file alike.
    struct stat st {};
    const bool symlink =
        saved == ELOOP ||
        (saved == ENOTDIR && io_.fstatat(fd, part.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
         S_ISLNK(st.st_mode));
    io_.close(fd);
    if (next < 0 && (symlink || saved == ENOTDIR)) {
      throw Failure(classify_errno(saved),
                    not_a_directory(DropzoneOp::open_directory, walked, symlink));
    }
    if (next < 0) {
      fail(saved, cannot(DropzoneOp::open_directory, walked));
    }
    fd = next;
  }
  return fd;
}

std::vector<DirectoryEntry> FilesystemDropzone::regular_files(
    int dirfd, const std::vector<std::string>& names) {
  std::vector<DirectoryEntry> files;
  for (const auto& name : names) {
    struct stat st {};
    if (io_.fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
      files.push_back({name, st.st_size, std::chrono::system_clock::from_time_t(st.st_mtime)});
    }
  }
  return files;
}

void FilesystemDropzone::sweep_stale_temp_files(int dirfd, const std::string& directory) {
  if (!swept_.first_visit(directory)) {
    return;
  }
  std::vector<std::string> names;
  if (io_.list_names(dirfd, names) != 0) {
    return;  // the write that follows reports a broken directory properly
  }
  // Only temp names are looked at: a directory the ERP is slow to empty may hold many files.
  std::erase_if(names, [](const std::string& name) { return !is_temp_file_name(name); });
  for (const auto& name :
       abandoned_temp_files(regular_files(dirfd, names), std::chrono::system_clock::now())) {
    io_.unlinkat(dirfd, name.c_str(), 0);
  }
}

void FilesystemDropzone::write_all(int fd, std::string_view bytes, const std::string& what) {
  while (!bytes.empty()) {
    const ssize_t n = io_.write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      fail(errno, cannot(DropzoneOp::write, what));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

WriteResult FilesystemDropzone::write_file(const std::string& directory, const std::string& name,
                                           std::string_view bytes, WriteOptions options) {
  check_file_name(name);
  Fd dir(io_, open_directory(directory));
  const std::string dir_path = normalize_absolute_path(directory);
  const std::string final_path = dir_path + "/" + name;
  sweep_stale_temp_files(dir.get(), dir_path);

  struct stat st {};
  if (io_.fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    return {final_path, true};
  }
  if (errno != ENOENT) {
    fail(errno, cannot(DropzoneOp::check, final_path));
  }

  const std::string write_name = options.atomic ? temp_file_name(name, new_temp_token()) : name;
  const std::string write_path = dir_path + "/" + write_name;
  const TempFileInProgress in_progress(write_name);
  Fd file(io_, io_.openat(dir.get(), write_name.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640));
  if (file.get() < 0) {
    if (!options.atomic && errno == EEXIST) {
      return {final_path, true};
    }
    fail(errno, cannot(DropzoneOp::create, write_path));
  }
  // A direct write is the delivery itself once its bytes are through: from
  // then on it is never removed, whatever fails after.
  bool delivered = false;
  try {
    write_all(file.get(), bytes, write_path);
    if (options.sync && io_.fsync(file.get()) != 0) {
      fail(errno, cannot(DropzoneOp::fsync, write_path));
    }
    delivered = !options.atomic;
    file.close(write_path);
    if (!options.atomic) {
      return {final_path, false};
    }
    if (io_.renameat_noreplace(dir.get(), write_name.c_str(), dir.get(), name.c_str()) != 0) {
      if (errno == EEXIST) {
        io_.unlinkat(dir.get(), write_name.c_str(), 0);
        return {final_path, true};
      }
      fail(errno, cannot(DropzoneOp::rename, write_path, final_path));
    }
  } catch (...) {
    if (!delivered) {
      io_.unlinkat(dir.get(), write_name.c_str(), 0);
    }
    throw;
  }
  return {final_path, false};
}

void FilesystemDropzone::sync_directory(const std::string& directory) {
  Fd dir(io_, open_directory(directory));
  if (io_.fsync(dir.get()) != 0) {
    fail(errno, cannot(DropzoneOp::fsync_directory, normalize_absolute_path(directory)));
  }
}

DropzoneCapabilities FilesystemDropzone::capabilities() const {
  return {.file_sync = true, .directory_sync = true};
}

std::vector<DirectoryEntry> FilesystemDropzone::list_files(const std::string& directory) {
  Fd dir(io_, open_directory(directory));
  std::vector<std::string> names;
  if (io_.list_names(dir.get(), names) != 0) {
    fail(errno, cannot(DropzoneOp::list, normalize_absolute_path(directory)));
  }
  return regular_files(dir.get(), names);
}

std::optional<std::string> FilesystemDropzone::read_file(const std::string& directory,
                                                         const std::string& name,
                                                         size_t max_bytes) {
  check_file_name(name);
  Fd dir(io_, open_directory(directory));
  const std::string path = normalize_absolute_path(directory) + "/" + name;
  // O_NONBLOCK: opening a FIFO must not wait for a writer.
  Fd file(io_,
          io_.openat(dir.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0));
  if (file.get() < 0) {
    if (errno == ELOOP) {
      throw Failure(FailureKind::permanent, not_a_regular_file(path, "a symlink"));
    }
    fail(errno, cannot(DropzoneOp::open, path));
  }
  struct stat st {};
  if (io_.fstatat(file.get(), "", &st, AT_EMPTY_PATH) != 0) {
    fail(errno, cannot(DropzoneOp::check, path));
  }
  if (!S_ISREG(st.st_mode)) {
    throw Failure(FailureKind::permanent, not_a_regular_file(path));
  }
  if (static_cast<size_t>(st.st_size) > max_bytes) {
    return std::nullopt;
  }
  return read_capped(max_bytes, [&](char* into, size_t size) {
    for (;;) {
      const ssize_t n = io_.read(file.get(), into, size);
      if (n >= 0) {
        return static_cast<size_t>(n);
      }
      if (errno != EINTR && errno != EAGAIN) {
        fail(errno, cannot(DropzoneOp::read, path));
      }
    }
  });
}

bool FilesystemDropzone::move_file(const std::string& directory, const std::string& name,
                                   const std::string& to_directory, const std::string& to_name) {
  check_file_name(name);
  check_file_name(to_name);
  Fd from(io_, open_directory(directory));
  Fd to(io_, open_directory(to_directory));
  if (io_.renameat_noreplace(from.get(), name.c_str(), to.get(), to_name.c_str()) != 0) {
    if (errno == EEXIST) {
      return false;
    }
    fail(errno, cannot(DropzoneOp::move, normalize_absolute_path(directory) + "/" + name,
                       normalize_absolute_path(to_directory) + "/" + to_name));
  }
  return true;
}

void FilesystemDropzone::remove_file(const std::string& directory, const std::string& name) {
  check_file_name(name);
  Fd dir(io_, open_directory(directory));
  if (io_.unlinkat(dir.get(), name.c_str(), 0) != 0 && errno != ENOENT) {
    fail(errno, cannot(DropzoneOp::remove, normalize_absolute_path(directory) + "/" + name));
  }
}

void FilesystemDropzone::make_directory(const std::string& directory) {
  Fd dir(io_, open_directory(directory));
}

std::vector<std::string> FilesystemDropzone::list_directories(const std::string& directory) {
  const int fd = open_directory(directory, false);
  if (fd < 0) {
    return {};
  }
  Fd dir(io_, fd);
  std::vector<std::string> names;
  if (io_.list_names(dir.get(), names) != 0) {
    fail(errno, cannot(DropzoneOp::list, normalize_absolute_path(directory)));
  }
  std::erase_if(names, [&](const std::string& name) {
    struct stat st {};
    return io_.fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
           !S_ISDIR(st.st_mode);
  });
  return names;
}

size_t FilesystemDropzone::remove_directory(const std::string& directory) {
  const std::string path = normalize_absolute_path(directory);
  if (std::find(roots_.begin(), roots_.end(), path) != roots_.end()) {
    throw Failure(FailureKind::permanent,
                  cannot(DropzoneOp::remove_directory, path) + ": it is a filesystem root");
  }
  const int fd = open_directory(path, false);
  if (fd < 0) {
    return 0;
  }
  size_t removed = 0;
  {
    Fd dir(io_, fd);
    std::vector<std::string> names;
    if (io_.list_names(dir.get(), names) != 0) {
      fail(errno, cannot(DropzoneOp::list, path));
    }
    for (const auto& file : regular_files(dir.get(), names)) {
      if (io_.unlinkat(dir.get(), file.name.c_str(), 0) == 0) {
        ++removed;
      } else if (errno != ENOENT) {
        fail(errno, cannot(DropzoneOp::remove, path + "/" + file.name));
      }
    }
  }
  // The directory goes through its parent, opened the same careful way.
  const auto slash = path.rfind('/');
  const int parent_fd = open_directory(slash == 0 ? "/" : path.substr(0, slash), false);
  if (parent_fd < 0) {
    return removed;
  }
  Fd parent(io_, parent_fd);
  const std::string name = path.substr(slash + 1);
  if (io_.unlinkat(parent.get(), name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    if (errno == ENOTEMPTY || errno == EEXIST) {
      throw Failure(FailureKind::permanent, directory_not_emptied(path));
    }
    fail(errno, cannot(DropzoneOp::remove_directory, path));
  }
  return removed;
}

}  // namespace exportd
