// Normalizing dropzone paths (absolute, no `..`; empty and `.` parts dropped)
// and checking that one lies within a root.
#include "domain/dropzone_path.h"

#include <sstream>

#include "domain/failure.h"

namespace exportd {

namespace {

std::string quoted(const std::string& s) {
  return "'" + s + "'";
}

}  // namespace

std::string normalize_absolute_path(const std::string& path) {
  if (path.empty() || path.front() != '/') {
    throw Failure(FailureKind::permanent, "path " + quoted(path) + " is not absolute");
  }
  std::string out;
  std::istringstream parts(path);
  std::string part;
  while (std::getline(parts, part, '/')) {
    if (part.empty() || part == ".") {
      continue;
    }
    if (part == "..") {
      throw Failure(FailureKind::permanent, "path " + quoted(path) + " contains '..'");
    }
    out += "/" + part;
  }
  return out.empty() ? "/" : out;
}

bool path_is_within(const std::string& path, const std::string& root) {
  if (root == "/") {
    return true;
  }
  return path == root || (path.starts_with(root) && path[root.size()] == '/');
}

void check_file_name(const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
    throw Failure(FailureKind::permanent, "invalid file name " + quoted(name));
  }
}

}  // namespace exportd
