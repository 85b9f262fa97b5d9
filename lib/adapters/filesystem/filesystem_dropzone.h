// Dropzone on a local filesystem: temp file, fsync, rename without replace,
// directory fsync. Only writes below the configured roots and never follows a
// symlink on the way there. Thread-safe; one instance serves all workers.
#pragma once

#include <string>
#include <vector>

#include "adapters/filesystem/posix_io.h"
#include "adapters/temp_files.h"
#include "ports/dropzone.h"

namespace exportd {

class FilesystemDropzone : public Dropzone {
 public:
  explicit FilesystemDropzone(const std::vector<std::string>& roots, PosixIo& io = real_posix_io());

  WriteResult write_file(const std::string& directory, const std::string& name,
                         std::string_view bytes, WriteOptions options) override;
  void sync_directory(const std::string& directory) override;
  DropzoneCapabilities capabilities() const override;
  std::vector<DirectoryEntry> list_files(const std::string& directory) override;
  std::optional<std::string> read_file(const std::string& directory, const std::string& name,
                                       size_t max_bytes) override;
  bool move_file(const std::string& directory, const std::string& name,
                 const std::string& to_directory, const std::string& to_name) override;
  void remove_file(const std::string& directory, const std::string& name) override;
  // Directories are created below a root only; the root itself must exist.
  void make_directory(const std::string& directory) override;
  std::vector<std::string> list_directories(const std::string& directory) override;
  size_t remove_directory(const std::string& directory) override;

 private:
  // Opens `directory` component by component with O_NOFOLLOW, creating
  // missing components below the root (else, with `create_missing` false,
  // returning -1 with errno ENOENT for them). Throws permanent outside the roots.
  int open_directory(const std::string& directory, bool create_missing = true);

  std::vector<std::string> roots_;
  PosixIo& io_;
  SweptDirectories swept_;
};

}  // namespace exportd
