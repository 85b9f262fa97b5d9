// Port: a place the ERP picks files up from (a local directory, an SFTP
// server). Implementations throw exportd::Failure: transient for conditions
// that may pass (network, disk full), unavailable for ones an operator fixes
// on the dropzone (read-only, permission denied, a missing root), permanent
// for ones that will not (path outside the allowed roots, a symlink on the
// way, refused host key).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exportd {

struct WriteOptions {
  // Write a temp name and rename it, so the ERP never sees a partial file.
  bool atomic = true;
  // Flush the file to stable storage before the rename.
  bool sync = true;
};

struct WriteResult {
  std::string path;              // full path of the final file
  bool already_present = false;  // an earlier attempt of this export delivered it
};

// What a dropzone can make durable before the database says SENT. Where it
// cannot, a power cut on its host may lose or empty a file already recorded
// as delivered; the daemon says so once per connection.
struct DropzoneCapabilities {
  bool file_sync = true;       // write_file flushes a file's bytes before the rename
  bool directory_sync = true;  // sync_directory makes the renames durable
  bool operator==(const DropzoneCapabilities&) const = default;
};

struct DirectoryEntry {
  std::string name;
  std::int64_t size = 0;
  std::chrono::system_clock::time_point modified;
};

class Dropzone {
 public:
  virtual ~Dropzone() = default;

  // Writes `bytes` as `directory/name`. If `name` already exists there, an
  // earlier attempt of the same export delivered it: nothing is written and
  // already_present is set. Stale temp files of crashed attempts in
  // `directory` are removed the first time this dropzone writes there.
  virtual WriteResult write_file(const std::string& directory, const std::string& name,
                                 std::string_view bytes, WriteOptions options) = 0;

  // Makes every rename done in `directory` so far durable. Separate from
  // write_file so a batch of files shares one directory flush. Called only
  // where capabilities() has directory_sync.
  virtual void sync_directory(const std::string& directory) = 0;

  // What this dropzone can flush. A remote one knows only once connected:
  // asked after a write, it answers for the server that took the write.
  virtual DropzoneCapabilities capabilities() const = 0;

  // The regular files in `directory`, in no particular order. Symlinks,
  // directories and special files are left out, never followed.
  virtual std::vector<DirectoryEntry> list_files(const std::string& directory) = 0;

  // The contents of the regular file `directory/name`, or nullopt when it is
  // larger than `max_bytes` (nothing past the cap is read). A symlink or
  // special file is a permanent failure.
  virtual std::optional<std::string> read_file(const std::string& directory,
                                               const std::string& name, size_t max_bytes) = 0;

  // Moves `directory/name` to `to_directory/to_name` without ever replacing a
  // file: returns false, and moves nothing, when the target exists. Not
  // flushed: callers record what a move means before making it, so a move a
  // power cut undoes only means the file is looked at again.
  virtual bool move_file(const std::string& directory, const std::string& name,
                         const std::string& to_directory, const std::string& to_name) = 0;

  // Removes `directory/name`; a file that is already gone is not an error.
  virtual void remove_file(const std::string& directory, const std::string& name) = 0;

  // Creates `directory` and its missing parents; an existing one is fine.
  virtual void make_directory(const std::string& directory) = 0;

  // The names of the subdirectories of `directory`, in no particular order;
  // none when `directory` does not exist (nothing is created). Symlinks are
  // left out, never followed.
  virtual std::vector<std::string> list_directories(const std::string& directory) = 0;

  // Removes the regular files in `directory` and then the directory itself;
  // returns how many files it removed. A directory already gone is fine. A
  // symlink is never followed: `directory` being one, or holding anything
  // but regular files (a subdirectory, a symlink), is a permanent failure,
  // and the rest stays where it is.
  virtual size_t remove_directory(const std::string& directory) = 0;
};

}  // namespace exportd
