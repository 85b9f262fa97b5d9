// Retention's pure rules (docs/operations.md, "Retention"): what it removes,
// by kind, and when a day folder of handled ack files or a dated row is old
// enough to go.
#pragma once

#include <array>
#include <chrono>
#include <string_view>

namespace exportd {

// What retention removes, as counted in its report and metric.
enum class PruneKind {
  ack_files,         // handled ack files, in day folders of processed/ and error/
  ack_file_records,  // exportd_ack_files rows
  archive_copies,    // archived copies of delivered files (archive_key cleared)
  exports,           // finished erp_exports rows another export of the draft supersedes
  audit_entries,     // audit_log rows
};

inline constexpr std::array kPruneKinds = {PruneKind::ack_files, PruneKind::ack_file_records,
                                           PruneKind::archive_copies, PruneKind::exports,
                                           PruneKind::audit_entries};

// "ack_files", "ack_file_records", ...: the metric's label and the report's key.
std::string_view to_string(PruneKind kind);

// `days` days before `now`: what is older than this goes.
std::chrono::system_clock::time_point retention_cutoff(int days,
                                                       std::chrono::system_clock::time_point now);

// Whether the day folder `name` ("2026-10-01", see day_folder_name) holds
// only files moved more than `days` days before `now`: its whole UTC day
// lies before the cutoff. A name that is not a valid date never expires.
bool day_folder_expired(std::string_view name, int days, std::chrono::system_clock::time_point now);

}  // namespace exportd
