// The names of the draft and export statuses, as the database spells them.
#include "domain/status.h"

#include <array>
#include <utility>

namespace exportd {

namespace {

constexpr std::array<std::pair<DraftStatus, std::string_view>, 6> kDraftNames{{
    {DraftStatus::needs_review, "NEEDS_REVIEW"},
    {DraftStatus::ready, "READY"},
    {DraftStatus::approved, "APPROVED"},
    {DraftStatus::pushing, "PUSHING"},
    {DraftStatus::pushed, "PUSHED"},
    {DraftStatus::error, "ERROR"},
}};

constexpr std::array<std::pair<ExportStatus, std::string_view>, 4> kExportNames{{
    {ExportStatus::pending, "PENDING"},
    {ExportStatus::sent, "SENT"},
    {ExportStatus::acked, "ACKED"},
    {ExportStatus::failed, "FAILED"},
}};

template <typename Enum, size_t N>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, N>& table,
                         Enum value) {
  for (const auto& [v, name] : table) {
    if (v == value) {
      return name;
    }
  }
  return "UNKNOWN";
}

template <typename Enum, size_t N>
std::optional<Enum> value_of(const std::array<std::pair<Enum, std::string_view>, N>& table,
                             std::string_view text) {
  for (const auto& [v, name] : table) {
    if (name == text) {
      return v;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(DraftStatus status) {
  return name_of(kDraftNames, status);
}
std::string_view to_string(ExportStatus status) {
  return name_of(kExportNames, status);
}
std::optional<DraftStatus> parse_draft_status(std::string_view text) {
  return value_of(kDraftNames, text);
}
std::optional<ExportStatus> parse_export_status(std::string_view text) {
  return value_of(kExportNames, text);
}

}  // namespace exportd
