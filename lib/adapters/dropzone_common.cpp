// The one list of dropzone failure texts, and the capped read.
#include "adapters/dropzone_common.h"

namespace exportd {

namespace {

std::string_view verb(DropzoneOp op) {
  switch (op) {
    case DropzoneOp::check:
      return "check";
    case DropzoneOp::create:
      return "create";
    case DropzoneOp::write:
      return "write";
    case DropzoneOp::fsync:
      return "fsync";
    case DropzoneOp::close:
      return "close";
    case DropzoneOp::rename:
      return "rename";
    case DropzoneOp::list:
      return "list";
    case DropzoneOp::open:
      return "open";
    case DropzoneOp::read:
      return "read";
    case DropzoneOp::remove:
      return "remove";
    case DropzoneOp::move:
      return "move";
    case DropzoneOp::create_directory:
      return "create directory";
    case DropzoneOp::open_directory:
      return "open directory";
    case DropzoneOp::fsync_directory:
      return "fsync directory";
    case DropzoneOp::remove_directory:
      return "remove directory";
  }
  return "use";
}

}  // namespace

std::string quote(std::string_view text) {
  std::string out = "'";
  out.append(text);
  out += "'";
  return out;
}

std::string cannot(DropzoneOp op, std::string_view path) {
  std::string out = "cannot ";
  out.append(verb(op));
  out += " ";
  out += quote(path);
  return out;
}

std::string cannot(DropzoneOp op, std::string_view from, std::string_view to) {
  return cannot(op, from) + " to " + quote(to);
}

std::string not_a_regular_file(std::string_view path, std::string_view what) {
  std::string out = cannot(DropzoneOp::read, path) + ": it is ";
  out.append(what);
  return out;
}

std::string not_a_directory(DropzoneOp op, std::string_view path, bool symlink) {
  return cannot(op, path) +
         (symlink ? ": it is a symlink (symlinks are not followed)" : ": it is not a directory");
}

std::string directory_not_emptied(std::string_view path) {
  return cannot(DropzoneOp::remove_directory, path) +
         ": it holds more than regular files (only those are removed)";
}

std::optional<std::string> read_capped(
    size_t max_bytes, const std::function<size_t(char* into, size_t size)>& read_some) {
  // One byte past the cap tells a file at the cap from a larger one.
  std::string bytes(max_bytes + 1, '\0');
  size_t used = 0;
  while (used < bytes.size()) {
    const size_t n = read_some(bytes.data() + used, bytes.size() - used);
    if (n == 0) {
      break;
    }
    used += n;
  }
  if (used > max_bytes) {
    return std::nullopt;
  }
  bytes.resize(used);
  return bytes;
}

}  // namespace exportd
