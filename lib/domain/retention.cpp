// Day folders are compared by their date, never by the files' own times:
// over SFTP those are the server's clock, and a folder goes as a whole.
#include "domain/retention.h"

#include <charconv>
#include <optional>

namespace exportd {

namespace {

// The date "YYYY-MM-DD" names, when it names a valid one.
std::optional<std::chrono::year_month_day> parse_day(std::string_view name) {
  if (name.size() != 10 || name[4] != '-' || name[7] != '-') {
    return std::nullopt;
  }
  const auto number = [&](size_t at, size_t length) -> std::optional<int> {
    int value = 0;
    const char* first = name.data() + at;
    const auto [end, error] = std::from_chars(first, first + length, value);
    if (error != std::errc() || end != first + length || *first == '+' || *first == '-') {
      return std::nullopt;
    }
    return value;
  };
  const auto year = number(0, 4);
  const auto month = number(5, 2);
  const auto day = number(8, 2);
  if (!year || !month || !day) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year(*year),
                                         std::chrono::month(static_cast<unsigned>(*month)),
                                         std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok()) {
    return std::nullopt;
  }
  return date;
}

}  // namespace

std::string_view to_string(PruneKind kind) {
  switch (kind) {
    case PruneKind::ack_files:
      return "ack_files";
    case PruneKind::ack_file_records:
      return "ack_file_records";
    case PruneKind::archive_copies:
      return "archive_copies";
    case PruneKind::exports:
      return "exports";
    case PruneKind::audit_entries:
      return "audit_entries";
  }
  return "unknown";
}

std::chrono::system_clock::time_point retention_cutoff(int days,
                                                       std::chrono::system_clock::time_point now) {
  return now - std::chrono::days(days);
}

bool day_folder_expired(std::string_view name, int days,
                        std::chrono::system_clock::time_point now) {
  const auto date = parse_day(name);
  if (!date) {
    return false;
  }
  // The folder's last moment is the start of the next day.
  const auto day_ends = std::chrono::sys_days(*date) + std::chrono::days(1);
  return day_ends <= retention_cutoff(days, now);
}

}  // namespace exportd
