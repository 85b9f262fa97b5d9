// Export file names (docs/erp-integration.md, "File name").
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace exportd {

// sales_order_{draft_order_id}_{YYYYMMDD_HHMMSS}_{suffix8}.json, where the time
// is the UTC time of the first delivery attempt and suffix8 the first 8 hex
// digits of the export id. Both ids are lower-cased.
std::string export_file_name(std::string_view draft_order_id, std::string_view export_id,
                             std::chrono::system_clock::time_point first_attempt);

// The temp name the ERP ignores: ".{final}.{random}.tmp".
std::string temp_file_name(std::string_view final_name, std::string_view random_token);

// The markers written beside an export file when its connection asks for
// them: "{final}.sha256" holding sha256sum_line, and the empty "{final}.done".
std::string checksum_file_name(std::string_view final_name);
std::string done_file_name(std::string_view final_name);
// As `sha256sum` prints it, so `sha256sum -c` checks the file: "{hex}  {name}\n".
std::string sha256sum_line(std::string_view sha256_hex, std::string_view final_name);

// True for names written by temp_file_name (ours, possibly left by a crash).
bool is_temp_file_name(std::string_view name);

}  // namespace exportd
