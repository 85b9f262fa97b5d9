// Export and temp file names.
#include "domain/file_name.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <stdexcept>

namespace exportd {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::string export_file_name(std::string_view draft_order_id, std::string_view export_id,
                             std::chrono::system_clock::time_point first_attempt) {
  std::string hex;
  for (char c : export_id) {
    if (c != '-') {
      hex.push_back(c);
    }
  }
  if (hex.size() < 8) {
    throw std::invalid_argument("export id too short for a file name: '" + std::string(export_id) +
                                "'");
  }
  const std::time_t seconds = std::chrono::system_clock::to_time_t(first_attempt);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d_%H%M%S", &utc);
  return "sales_order_" + lower(draft_order_id) + "_" + stamp + "_" + lower(hex.substr(0, 8)) +
         ".json";
}

std::string temp_file_name(std::string_view final_name, std::string_view random_token) {
  // Appending into one reserved string: GCC 12 at -O3 reports a false
  // -Wrestrict overlap for `"." + std::string(...)`.
  std::string name;
  name.reserve(final_name.size() + random_token.size() + 6);
  name.append(".").append(final_name).append(".").append(random_token).append(".tmp");
  return name;
}

bool is_temp_file_name(std::string_view name) {
  return name.size() > 5 && name.front() == '.' && name.ends_with(".tmp");
}

std::string checksum_file_name(std::string_view final_name) {
  return std::string(final_name).append(".sha256");
}

std::string done_file_name(std::string_view final_name) {
  return std::string(final_name).append(".done");
}

std::string sha256sum_line(std::string_view sha256_hex, std::string_view final_name) {
  return std::string(sha256_hex).append("  ").append(final_name).append("\n");
}

}  // namespace exportd
