// The draft and export statuses. Which transitions are allowed is the
// database's to say: its triggers guard every writer (migrations/0001_schema.sql,
// docs/architecture.md "State rules").
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace exportd {

enum class DraftStatus { needs_review, ready, approved, pushing, pushed, error };
enum class ExportStatus { pending, sent, acked, failed };

// Every export status, in the order an export goes through them.
inline constexpr std::array kExportStatuses = {ExportStatus::pending, ExportStatus::sent,
                                               ExportStatus::acked, ExportStatus::failed};

std::string_view to_string(DraftStatus status);
std::string_view to_string(ExportStatus status);
std::optional<DraftStatus> parse_draft_status(std::string_view text);
std::optional<ExportStatus> parse_export_status(std::string_view text);

}  // namespace exportd
