// Why each step: the copy must be durable before the export is recorded SENT
// with its location, so the file is flushed before the rename and the
// directory after it, and a day folder created for it is flushed into its
// parent too. A copy is replaced, not kept: an earlier attempt of the same
// export wrote the same bytes under the same name.
#include "adapters/filesystem/directory_archive.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <sstream>
#include <vector>

#include "adapters/dropzone_common.h"
#include "adapters/filesystem/posix_files.h"
#include "domain/dropzone_path.h"
#include "domain/failure.h"

namespace exportd {

DirectoryArchive::DirectoryArchive(const std::string& root, PosixIo& io)
    : root_(normalize_absolute_path(root)), io_(io) {}

DirectoryArchive::Place DirectoryArchive::place_of(const std::string& location) const {
  std::vector<std::string> parts;
  std::istringstream in(location);
  for (std::string part; std::getline(in, part, '/');) {
    parts.push_back(part);
  }
  const bool relative = !location.empty() && !location.starts_with('/') && !location.ends_with('/');
  const bool plain = std::none_of(parts.begin(), parts.end(), [](const std::string& part) {
    return part.empty() || part == "." || part == "..";
  });
  if (!relative || !plain) {
    throw Failure(FailureKind::permanent,
                  "archive location " + quote(location) +
                      " is not a relative path below the archive directory");
  }
  Place place{root_, parts.back()};
  parts.pop_back();
  for (const auto& part : parts) {
    place.directory += "/" + part;
  }
  return place;
}

int DirectoryArchive::open_directory(const std::string& directory, bool create) {
  std::vector<std::string> created;
  const auto below_root = [&](const std::string& walked) {
    if (!create || walked == root_ || !path_is_within(walked, root_)) {
      return false;
    }
    created.push_back(walked);
    return true;
  };
  std::string missing;
  const int fd = open_directory_nofollow(io_, directory, below_root, missing);
  if (fd < 0 && !(path_is_within(missing, root_) && missing != root_)) {
    throw Failure(FailureKind::bad_config, "the archive directory " + quote(root_) +
                                               " does not exist ([archive] directory)");
  }
  if (!created.empty()) {
    // The directory holding the first new one, and each new one but the last
    // (which its caller flushes), so the path to the copy survives a power cut.
    sync_directory(created.front().substr(0, created.front().rfind('/')));
    created.pop_back();
    for (const auto& path : created) {
      sync_directory(path);
    }
  }
  return fd;
}

void DirectoryArchive::sync_directory(const std::string& directory) {
  Fd dir(io_, open_directory(directory, false));
  if (io_.fsync(dir.get()) != 0) {
    fail_errno(errno, cannot(DropzoneOp::fsync_directory, directory));
  }
}

std::string DirectoryArchive::put(const std::string& name, std::string_view bytes,
                                  const std::string& /*sha256_hex: a file carries no metadata*/) {
  const Place place = place_of(name);
  Fd dir(io_, open_directory(place.directory, true));
  sweep_abandoned_temp_files(io_, dir.get(), place.directory, swept_);
  write_through_temp_file(io_, dir.get(), place.directory, place.file, bytes, 0440, true, true);
  if (io_.fsync(dir.get()) != 0) {
    fail_errno(errno, cannot(DropzoneOp::fsync_directory, place.directory));
  }
  return name;
}

std::optional<std::string> DirectoryArchive::get(const std::string& location) {
  const Place place = place_of(location);
  Fd dir(io_, open_directory(place.directory, false));
  if (dir.get() < 0) {
    return std::nullopt;
  }
  const std::string path = place.directory + "/" + place.file;
  Fd file(io_, open_for_reading(io_, dir.get(), place.file, path));
  if (file.get() < 0) {
    return std::nullopt;
  }
  auto bytes = read_regular_file(io_, file.get(), std::nullopt, path);
  if (!bytes) {
    throw Failure(FailureKind::transient,
                  cannot(DropzoneOp::read, path) + ": it grew while it was read");
  }
  return bytes;
}

void DirectoryArchive::remove(const std::string& location) {
  const Place place = place_of(location);
  Fd dir(io_, open_directory(place.directory, false));
  if (dir.get() < 0) {
    return;
  }
  if (io_.unlinkat(dir.get(), place.file.c_str(), 0) != 0 && errno != ENOENT) {
    fail_errno(errno, cannot(DropzoneOp::remove, place.directory + "/" + place.file));
  }
}

}  // namespace exportd
