#include "domain/dated_names.h"

#include <ctime>

namespace exportd {

namespace {

std::string utc_text(std::chrono::system_clock::time_point at, const char* format) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(at);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[16];
  const size_t length = std::strftime(text, sizeof text, format, &utc);
  return {text, length};
}

}  // namespace

std::string archive_object_name(std::string_view org_slug, std::string_view file_name,
                                std::chrono::system_clock::time_point written_at) {
  std::string name(org_slug);
  name.append("/").append(utc_text(written_at, "%Y/%m/%d")).append("/").append(file_name);
  return name;
}

std::string day_folder_name(std::chrono::system_clock::time_point moved_at) {
  return utc_text(moved_at, "%Y-%m-%d");
}

}  // namespace exportd
