// What the dropzone adapters (filesystem, SFTP) share: the texts of their
// failures, so the same failure reads the same on disk and over SFTP, and the
// capped read of a file.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace exportd {

// "'{text}'": how a path or name appears in a message.
std::string quote(std::string_view text);

// The operations a dropzone failure can name.
enum class DropzoneOp {
  check,
  create,
  write,
  fsync,
  close,
  rename,
  list,
  open,
  read,
  remove,
  move,
  create_directory,
  open_directory,
  fsync_directory,
  remove_directory,
};

// "cannot {op} '{path}'"; each adapter appends its cause (": permission denied").
std::string cannot(DropzoneOp op, std::string_view path);
// "cannot {op} '{from}' to '{to}'", for rename and move.
std::string cannot(DropzoneOp op, std::string_view from, std::string_view to);
// A read of something that is not a regular file (a symlink, a FIFO, a directory).
std::string not_a_regular_file(std::string_view path, std::string_view what = "not a regular file");

// A path that had to be a directory: "cannot {op} '{path}': it is a symlink
// (symlinks are not followed)", or "... it is not a directory".
std::string not_a_directory(DropzoneOp op, std::string_view path, bool symlink);
// A directory that still holds more than regular files once those are removed.
std::string directory_not_emptied(std::string_view path);

// Reads a file through `read_some` (fills up to `size` bytes at `into`,
// returns how many, 0 at the end, throws on failure) but never more than
// `max_bytes` + 1 bytes: nullopt when the file holds more than `max_bytes`,
// however much it grew after its size was checked.
std::optional<std::string> read_capped(
    size_t max_bytes, const std::function<size_t(char* into, size_t size)>& read_some);

}  // namespace exportd
