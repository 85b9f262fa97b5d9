// The archive in a local directory ([archive] mode = "directory"): each copy
// a file {root}/{name}, written like a local dropzone writes (temp file,
// fsync, rename, directory fsync), mode 0440, so a copy recorded with an
// export is on disk to stay. Never follows a symlink below the root.
// Thread-safe; one instance serves all workers.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "adapters/filesystem/posix_io.h"
#include "adapters/temp_files.h"
#include "ports/archive.h"

namespace exportd {

class DirectoryArchive final : public Archive {
 public:
  // `root` is the absolute [archive] directory; it must exist when used
  // (bad_config otherwise), what lies below it is created as needed.
  explicit DirectoryArchive(const std::string& root, PosixIo& io = real_posix_io());

  // The location returned is `name` itself, relative to the root.
  std::string put(const std::string& name, std::string_view bytes,
                  const std::string& sha256_hex) override;
  std::optional<std::string> get(const std::string& location) override;
  void remove(const std::string& location) override;

 private:
  struct Place {
    std::string directory;  // absolute, normalised
    std::string file;       // one path component
  };
  // Where `location` lies below the root; permanent for an absolute
  // location, or one with "..", "." or empty components.
  Place place_of(const std::string& location) const;
  // Opens `directory` (below the root, or the root) without following a
  // symlink, creating missing directories below the root when `create`, each
  // one's name made durable in its parent. -1 when it is missing and not
  // created; bad_config when the root itself is missing.
  int open_directory(const std::string& directory, bool create);
  void sync_directory(const std::string& directory);

  std::string root_;
  PosixIo& io_;
  SweptDirectories swept_;
};

}  // namespace exportd
