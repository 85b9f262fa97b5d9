// Names that carry a UTC date, so that whatever the daemon keeps is grouped
// by day and retention removes whole days: archived copies
// (docs/operations.md, "Archive") and the day folders of handled ack files
// (docs/erp-integration.md, "Ack and error files").
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace exportd {

// {org_slug}/{YYYY}/{MM}/{DD}/{file_name}, dated by `written_at`.
std::string archive_object_name(std::string_view org_slug, std::string_view file_name,
                                std::chrono::system_clock::time_point written_at);

// YYYY-MM-DD of `moved_at`: the folder of processed/ or error/ a handled ack
// file moves into.
std::string day_folder_name(std::chrono::system_clock::time_point moved_at);

}  // namespace exportd
