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

#include "adapters/dropzone_common.h"
#include "adapters/filesystem/posix_files.h"
#include "adapters/temp_files.h"
#include "domain/dropzone_path.h"
#include "domain/failure.h"
#include "domain/file_name.h"

namespace exportd {

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
  // Missing directories below a root are created (when asked to); the root
  // itself must exist.
  const auto below_root = [this](const std::string& walked) {
    return std::any_of(roots_.begin(), roots_.end(), [&](const std::string& root) {
      return path_is_within(walked, root) && walked != root;
    });
  };
  std::string missing;
  const int fd = open_directory_nofollow(
      io_, path, [&](const std::string& walked) { return create_missing && below_root(walked); },
      missing);
  if (fd < 0 && below_root(missing)) {
    errno = ENOENT;
    return -1;
  }
  if (fd < 0) {
    throw Failure(FailureKind::unavailable,
                  cannot(DropzoneOp::open_directory, missing) +
                      ": no such directory (the filesystem root is missing or not mounted)");
  }
  return fd;
}

WriteResult FilesystemDropzone::write_file(const std::string& directory, const std::string& name,
                                           std::string_view bytes, WriteOptions options) {
  check_file_name(name);
  Fd dir(io_, open_directory(directory));
  const std::string dir_path = normalize_absolute_path(directory);
  const std::string final_path = dir_path + "/" + name;
  sweep_abandoned_temp_files(io_, dir.get(), dir_path, swept_);

  struct stat st {};
  if (io_.fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    return {final_path, true};
  }
  if (errno != ENOENT) {
    fail_errno(errno, cannot(DropzoneOp::check, final_path));
  }

  if (options.atomic) {
    return {final_path, !write_through_temp_file(io_, dir.get(), dir_path, name, bytes, 0640,
                                                 options.sync, false)};
  }
  Fd file(io_, io_.openat(dir.get(), name.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640));
  if (file.get() < 0) {
    if (errno == EEXIST) {
      return {final_path, true};
    }
    fail_errno(errno, cannot(DropzoneOp::create, final_path));
  }
  try {
    write_synced(io_, file.get(), bytes, options.sync, final_path);
  } catch (...) {
    io_.unlinkat(dir.get(), name.c_str(), 0);
    throw;
  }
  // A direct write is the delivery itself once its bytes are through: from
  // then on it is never removed, whatever fails after.
  file.close(final_path);
  return {final_path, false};
}

void FilesystemDropzone::sync_directory(const std::string& directory) {
  Fd dir(io_, open_directory(directory));
  if (io_.fsync(dir.get()) != 0) {
    fail_errno(errno, cannot(DropzoneOp::fsync_directory, normalize_absolute_path(directory)));
  }
}

DropzoneCapabilities FilesystemDropzone::capabilities() const {
  return {.file_sync = true, .directory_sync = true};
}

std::vector<DirectoryEntry> FilesystemDropzone::list_files(const std::string& directory) {
  Fd dir(io_, open_directory(directory));
  std::vector<std::string> names;
  if (io_.list_names(dir.get(), names) != 0) {
    fail_errno(errno, cannot(DropzoneOp::list, normalize_absolute_path(directory)));
  }
  return regular_files(io_, dir.get(), names);
}

std::optional<std::string> FilesystemDropzone::read_file(const std::string& directory,
                                                         const std::string& name,
                                                         size_t max_bytes) {
  check_file_name(name);
  Fd dir(io_, open_directory(directory));
  const std::string path = normalize_absolute_path(directory) + "/" + name;
  Fd file(io_, open_for_reading(io_, dir.get(), name, path));
  if (file.get() < 0) {
    fail_errno(errno, cannot(DropzoneOp::open, path));
  }
  return read_regular_file(io_, file.get(), max_bytes, path);
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
    fail_errno(errno, cannot(DropzoneOp::move, normalize_absolute_path(directory) + "/" + name,
                             normalize_absolute_path(to_directory) + "/" + to_name));
  }
  return true;
}

void FilesystemDropzone::remove_file(const std::string& directory, const std::string& name) {
  check_file_name(name);
  Fd dir(io_, open_directory(directory));
  if (io_.unlinkat(dir.get(), name.c_str(), 0) != 0 && errno != ENOENT) {
    fail_errno(errno, cannot(DropzoneOp::remove, normalize_absolute_path(directory) + "/" + name));
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
    fail_errno(errno, cannot(DropzoneOp::list, normalize_absolute_path(directory)));
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
      fail_errno(errno, cannot(DropzoneOp::list, path));
    }
    for (const auto& file : regular_files(io_, dir.get(), names)) {
      if (io_.unlinkat(dir.get(), file.name.c_str(), 0) == 0) {
        ++removed;
      } else if (errno != ENOENT) {
        fail_errno(errno, cannot(DropzoneOp::remove, path + "/" + file.name));
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
    fail_errno(errno, cannot(DropzoneOp::remove_directory, path));
  }
  return removed;
}

}  // namespace exportd
