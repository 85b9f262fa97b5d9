// Why each step: every call runs under SocketDeadlines (see SftpCall); a
// failure that leaves the session unusable drops it, and a call on a reused
// session that finds it closed (server restart, idle timeout) is tried once
// more on a fresh one. OpenSSH renames with link()+unlink(), so a rename onto
// an existing name fails: after a failed rename the final name is checked
// before anything is concluded.
#include "adapters/sftp/sftp_dropzone.h"

#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "adapters/dropzone_common.h"
#include "adapters/sftp/sftp_calls.h"
#include "adapters/temp_files.h"
#include "domain/dropzone_path.h"
#include "domain/failure.h"
#include "domain/file_name.h"

namespace exportd {

namespace {

constexpr size_t kChunk = size_t{32} * 1024;

std::vector<DirectoryEntry> regular_files(const SftpCall& call, const std::string& directory) {
  std::vector<DirectoryEntry> files;
  call.list(directory, [&](const sftp_attributes_struct& a) {
    if (a.name != nullptr && a.type == SSH_FILEXFER_TYPE_REGULAR) {
      files.push_back({a.name, static_cast<std::int64_t>(a.size),
                       std::chrono::system_clock::from_time_t(a.mtime)});
    }
  });
  return files;
}

// Whether `directory` exists (without following a symlink); a symlink or a
// file in its place is a permanent failure of `op`.
bool directory_exists(const SftpCall& call, DropzoneOp op, const std::string& directory) {
  const auto attributes = call.lstat(directory);
  if (!attributes) {
    return false;
  }
  if (attributes->type != SSH_FILEXFER_TYPE_DIRECTORY) {
    throw Failure(FailureKind::permanent,
                  not_a_directory(op, directory, attributes->type == SSH_FILEXFER_TYPE_SYMLINK));
  }
  return true;
}

// Removes the abandoned temp files of `directory`, once per session.
void sweep_stale_temp_files(SftpCall& call, const std::string& directory) {
  if (!call.session().swept().first_visit(directory)) {
    return;
  }
  std::vector<DirectoryEntry> files;
  try {
    files = regular_files(call, directory);
  } catch (const Failure&) {
    return;  // the write that follows reports a broken directory properly
  }
  for (const auto& name : abandoned_temp_files(files, std::chrono::system_clock::now())) {
    sftp_unlink(call.sftp(), (directory + "/" + name).c_str());
  }
}

}  // namespace

SftpDropzone::SftpDropzone(ConnectionSettings settings, SftpOptions options,
                           SocketDeadlines& deadlines)
    : settings_(std::move(settings)), options_(std::move(options)), deadlines_(deadlines) {}

SftpDropzone::~SftpDropzone() = default;

template <typename Fn>
auto SftpDropzone::with_session(Fn&& operation) {
  for (int attempt = 0;; ++attempt) {
    const bool reused = session_ != nullptr;
    if (!session_) {
      session_ = SftpSession::open(settings_, options_, deadlines_);
      file_sync_ = session_->fsync_supported();
    }
    std::optional<SessionLost> lost;
    try {
      SftpCall call(*session_);
      remove_orphaned_temp_files(call);
      return operation(call);
    } catch (const SessionLost& e) {
      lost.emplace(e);
    }
    session_.reset();
    if (!reused || attempt > 0 || lost->timed_out()) {
      throw Failure(FailureKind::transient, lost->what());
    }
  }
}

void SftpDropzone::connect() {
  with_session([](SftpCall&) { return 0; });
}

DropzoneCapabilities SftpDropzone::capabilities() const {
  return {.file_sync = file_sync_, .directory_sync = false};
}

void SftpDropzone::remove_orphaned_temp_files(SftpCall& call) {
  while (!orphaned_temp_files_.empty()) {
    call.remove(orphaned_temp_files_.back());
    orphaned_temp_files_.pop_back();
  }
}

void SftpDropzone::left_behind(const std::string& path, bool atomic) {
  if (atomic) {
    orphaned_temp_files_.push_back(path);
  } else {
    incomplete_direct_writes_.insert(path);
  }
}

WriteResult SftpDropzone::write_file(const std::string& directory, const std::string& name,
                                     std::string_view bytes, WriteOptions options) {
  check_file_name(name);
  const std::string dir = normalize_absolute_path(directory);
  const std::string final_path = dir + "/" + name;
  return with_session([&](SftpCall& call) -> WriteResult {
    sweep_stale_temp_files(call, dir);
    // No existence check up front for temp writes: the rename fails when the
    // final name exists, and the name is checked then. One round trip less on
    // every delivery. A direct write looks first, so that a file found after
    // a broken create can only be its own.
    if (!options.atomic) {
      const auto found = call.lstat(final_path);
      const bool left_incomplete =
          found && incomplete_direct_writes_.contains(final_path) && found->size != bytes.size();
      if (left_incomplete) {
        call.remove(final_path);
      }
      incomplete_direct_writes_.erase(final_path);
      if (found && !left_incomplete) {
        return {final_path, true};
      }
    }
    const std::string write_name = options.atomic ? temp_file_name(name, new_temp_token()) : name;
    const std::string write_path = dir + "/" + write_name;
    const TempFileInProgress in_progress(write_name);
    const int flags = O_WRONLY | O_CREAT | O_EXCL;
    SftpFileHandle file(sftp_open(call.sftp(), write_path.c_str(), flags, 0640));
    if (!file && call.missing()) {
      call.make_directories(dir);
      file.reset(sftp_open(call.sftp(), write_path.c_str(), flags, 0640));
    }
    if (!file) {
      const int refused = call.status();
      if (refused == 0) {
        // The server may have created the file before the session broke.
        left_behind(write_path, options.atomic);
      } else if (!options.atomic && call.exists(final_path)) {
        return {final_path, true};
      }
      call.fail(cannot(DropzoneOp::create, write_path), refused);
    }
    // A direct write is the delivery itself once its bytes are through: from
    // then on it is never removed, whatever fails after.
    bool delivered = false;
    try {
      for (size_t offset = 0; offset < bytes.size();) {
        call.sftp();
        const ssize_t n =
            sftp_write(file.get(), bytes.data() + offset, std::min(kChunk, bytes.size() - offset));
        if (n <= 0) {
          call.fail(cannot(DropzoneOp::write, write_path));
        }
        offset += static_cast<size_t>(n);
      }
      call.sftp();
      if (options.sync && call.session().fsync_supported() && sftp_fsync(file.get()) != 0) {
        call.fail(cannot(DropzoneOp::fsync, write_path));
      }
      delivered = !options.atomic;
      call.sftp();
      // Closed here, not by the handle, because a failed close must be reported.
      if (sftp_close(file.release()) != SSH_NO_ERROR) {
        call.fail(cannot(DropzoneOp::close, write_path));
      }
      if (!options.atomic) {
        return {final_path, false};
      }
      if (sftp_rename(call.sftp(), write_path.c_str(), final_path.c_str()) != 0) {
        const int refused = call.status();
        if (refused != 0 && call.exists(final_path)) {
          sftp_unlink(call.sftp(), write_path.c_str());
          return {final_path, true};
        }
        call.fail(cannot(DropzoneOp::rename, write_path, final_path), refused);
      }
    } catch (...) {
      file.reset();  // closed before the file is removed
      // A temp file that cannot be removed now is removed first thing on
      // the next session: our process still lives, so no sweep would take
      // it. A partial direct write must not pass for a delivery: it goes
      // now, or at this export's next attempt through this dropzone.
      if (!delivered &&
          (!call.session().connected() || (sftp_unlink(call.sftp(), write_path.c_str()) != 0 &&
                                           call.status() != SSH_FX_NO_SUCH_FILE))) {
        left_behind(write_path, options.atomic);
      }
      throw;
    }
    return {final_path, false};
  });
}

void SftpDropzone::sync_directory(const std::string&) {}

std::vector<DirectoryEntry> SftpDropzone::list_files(const std::string& directory) {
  const std::string dir = normalize_absolute_path(directory);
  return with_session([&](SftpCall& call) { return regular_files(call, dir); });
}

std::optional<std::string> SftpDropzone::read_file(const std::string& directory,
                                                   const std::string& name, size_t max_bytes) {
  check_file_name(name);
  const std::string path = normalize_absolute_path(directory) + "/" + name;
  return with_session([&](SftpCall& call) -> std::optional<std::string> {
    const auto attributes = call.lstat(path);
    if (!attributes) {
      throw Failure(FailureKind::transient, cannot(DropzoneOp::read, path) + ": no such file");
    }
    if (attributes->type != SSH_FILEXFER_TYPE_REGULAR) {
      throw Failure(FailureKind::permanent, not_a_regular_file(path));
    }
    if (attributes->size > max_bytes) {
      return std::nullopt;
    }
    const SftpFileHandle file(sftp_open(call.sftp(), path.c_str(), O_RDONLY, 0));
    if (!file) {
      call.fail(cannot(DropzoneOp::open, path));
    }
    return read_capped(max_bytes, [&](char* into, size_t size) {
      call.sftp();
      const ssize_t n = sftp_read(file.get(), into, std::min(kChunk, size));
      if (n < 0) {
        call.fail(cannot(DropzoneOp::read, path));
      }
      return static_cast<size_t>(n);
    });
  });
}

bool SftpDropzone::move_file(const std::string& directory, const std::string& name,
                             const std::string& to_directory, const std::string& to_name) {
  check_file_name(name);
  check_file_name(to_name);
  const std::string from = normalize_absolute_path(directory) + "/" + name;
  const std::string to = normalize_absolute_path(to_directory) + "/" + to_name;
  return with_session([&](SftpCall& call) {
    if (sftp_rename(call.sftp(), from.c_str(), to.c_str()) != 0) {
      const int refused = call.status();
      if (refused != 0 && call.exists(to)) {
        return false;
      }
      call.fail(cannot(DropzoneOp::move, from, to), refused);
    }
    return true;
  });
}

void SftpDropzone::remove_file(const std::string& directory, const std::string& name) {
  check_file_name(name);
  const std::string path = normalize_absolute_path(directory) + "/" + name;
  with_session([&](SftpCall& call) {
    call.remove(path);
    return 0;
  });
}

void SftpDropzone::make_directory(const std::string& directory) {
  const std::string dir = normalize_absolute_path(directory);
  with_session([&](SftpCall& call) {
    call.make_directories(dir);
    return 0;
  });
}

std::vector<std::string> SftpDropzone::list_directories(const std::string& directory) {
  const std::string dir = normalize_absolute_path(directory);
  return with_session([&](SftpCall& call) {
    std::vector<std::string> names;
    if (!directory_exists(call, DropzoneOp::list, dir)) {
      return names;
    }
    // The server reports each entry as lstat sees it: a symlink is no directory here.
    call.list(dir, [&](const sftp_attributes_struct& a) {
      const std::string_view name = a.name == nullptr ? "" : a.name;
      if (a.type == SSH_FILEXFER_TYPE_DIRECTORY && name != "." && name != ".." && !name.empty()) {
        names.emplace_back(name);
      }
    });
    return names;
  });
}

size_t SftpDropzone::remove_directory(const std::string& directory) {
  const std::string dir = normalize_absolute_path(directory);
  const auto files =
      with_session([&](SftpCall& call) -> std::optional<std::vector<DirectoryEntry>> {
        if (!directory_exists(call, DropzoneOp::remove_directory, dir)) {
          return std::nullopt;
        }
        return regular_files(call, dir);
      });
  if (!files) {
    return 0;
  }
  for (const auto& file : *files) {
    with_session([&](SftpCall& call) {
      call.remove(dir + "/" + file.name);
      return 0;
    });
  }
  with_session([&](SftpCall& call) {
    if (sftp_rmdir(call.sftp(), dir.c_str()) != 0) {
      const int refused = call.status();
      if (refused == SSH_FX_NO_SUCH_FILE) {
        return 0;
      }
      // OpenSSH reports a directory that is not empty as a plain failure.
      if (refused == SSH_FX_FAILURE) {
        throw Failure(FailureKind::permanent, directory_not_emptied(dir));
      }
      call.fail(cannot(DropzoneOp::remove_directory, dir), refused);
    }
    return 0;
  });
  return files->size();
}

}  // namespace exportd
