// Paths inside a dropzone, checked the same way for every dropzone kind.
#pragma once

#include <string>

namespace exportd {

// Lexically normalised absolute path ("//a/./b/" -> "/a/b"); throws
// Failure(permanent) for relative paths and paths that contain "..".
std::string normalize_absolute_path(const std::string& path);

// True when `path` is `root` or below it (both normalised).
bool path_is_within(const std::string& path, const std::string& root);

// Throws Failure(permanent) unless `name` is one path component: never a way
// out of the directory it is meant for.
void check_file_name(const std::string& name);

}  // namespace exportd
