// Parsing and matching of 5-field cron expressions, as Vixie cron reads them.
#include "domain/cron.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

#include "domain/failure.h"

namespace exportd {

namespace {

struct CronField {
  const char* name;
  int min;
  int max;
  const char* const* names;  // spelled values from `min` on, or null
  int name_count;
};

constexpr std::array<const char*, 12> kMonthNames{"jan", "feb", "mar", "apr", "may", "jun",
                                                  "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<const char*, 7> kDayNames{"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

constexpr CronField kMinute{"minute", 0, 59, nullptr, 0};
constexpr CronField kHour{"hour", 0, 23, nullptr, 0};
constexpr CronField kDayOfMonth{"day-of-month", 1, 31, nullptr, 0};
constexpr CronField kMonth{"month", 1, 12, kMonthNames.data(), 12};
// 7 is Sunday as well as 0, folded when the set is built.
constexpr CronField kDayOfWeek{"day-of-week", 0, 7, kDayNames.data(), 7};

// Put together by append: GCC 12 at -O3 warns falsely (-Wrestrict) about a
// literal prepended to a temporary string.
[[noreturn]] void refuse(const CronField& field, std::string_view text,
                         std::initializer_list<std::string_view> why) {
  std::string message = "the ";
  message.append(field.name).append(" field '").append(text).append("' ");
  for (const auto part : why) {
    message.append(part);
  }
  throw Failure(FailureKind::permanent, message);
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

int parse_value(const CronField& field, std::string_view whole, std::string_view text) {
  if (field.names != nullptr && text.size() == 3) {
    const auto spelled = lower(text);
    for (int i = 0; i < field.name_count; ++i) {
      if (spelled == field.names[i]) {
        return field.min + i;
      }
    }
  }
  // Three digits are more than any field holds: no overflow, a clear refusal.
  if (text.empty() || text.size() > 3 || !std::all_of(text.begin(), text.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
      })) {
    refuse(
        field, whole,
        {"holds '", text, "', which is not a number", field.names != nullptr ? " or a name" : ""});
  }
  int value = 0;
  for (const char c : text) {
    value = value * 10 + (c - '0');
  }
  if (value < field.min || value > field.max) {
    refuse(field, whole,
           {"holds ", std::to_string(value), ", outside ", std::to_string(field.min), "-",
            std::to_string(field.max)});
  }
  return value;
}

// One field into the set of its values (indexed by value).
std::vector<bool> parse_field(const CronField& field, std::string_view text) {
  std::vector<bool> values(static_cast<size_t>(field.max) + 1, false);
  if (text.empty()) {
    refuse(field, text, {"is empty"});
  }
  size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const auto element = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (element.empty()) {
      refuse(field, text, {"has an empty list element"});
    }
    const auto slash = element.find('/');
    const auto range = element.substr(0, slash);
    int step = 1;
    if (slash != std::string_view::npos) {
      const auto step_text = element.substr(slash + 1);
      if (step_text.empty() || step_text.size() > 3 ||
          !std::all_of(step_text.begin(), step_text.end(),
                       [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
        refuse(field, text, {"has a step '", step_text, "' that is not a number"});
      }
      step = std::stoi(std::string(step_text));
      if (step == 0) {
        refuse(field, text, {"has a step of 0"});
      }
    }
    int low = field.min;
    int high = field.max;
    if (range != "*") {
      const auto dash = range.find('-');
      low = parse_value(field, text, range.substr(0, dash));
      if (dash != std::string_view::npos) {
        high = parse_value(field, text, range.substr(dash + 1));
        if (high < low) {
          refuse(field, text, {"has a range '", range, "' that runs backwards"});
        }
      } else if (slash != std::string_view::npos) {
        refuse(field, text, {"has a step after '", range, "', not after * or a range"});
      } else {
        high = low;
      }
    }
    for (int v = low; v <= high; v += step) {
      values[static_cast<size_t>(v)] = true;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    start = comma + 1;
  }
  return values;
}

template <size_t N>
std::bitset<N> to_bits(const std::vector<bool>& values) {
  std::bitset<N> bits;
  for (size_t v = 0; v < values.size() && v < N; ++v) {
    bits[v] = values[v];
  }
  return bits;
}

unsigned days_in(unsigned month) {
  // February counts its 29th: that day comes round in leap years.
  constexpr std::array<unsigned, 13> kDays{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return kDays[month];
}

}  // namespace

CronExpression CronExpression::parse(std::string_view text) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) {
      ++i;
    }
    const auto start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) {
      ++i;
    }
    if (i > start) {
      fields.push_back(text.substr(start, i - start));
    }
  }
  if (fields.size() != 5) {
    std::string message =
        "a cron expression has 5 fields (minute hour day-of-month month day-of-week), '";
    message.append(text).append("' has ").append(std::to_string(fields.size()));
    throw Failure(FailureKind::permanent, message);
  }
  CronExpression cron;
  cron.text_ = std::string(text);
  cron.minutes_ = to_bits<60>(parse_field(kMinute, fields[0]));
  cron.hours_ = to_bits<24>(parse_field(kHour, fields[1]));
  cron.days_of_month_ = to_bits<32>(parse_field(kDayOfMonth, fields[2]));
  cron.months_ = to_bits<13>(parse_field(kMonth, fields[3]));
  const auto days_of_week = parse_field(kDayOfWeek, fields[4]);
  cron.days_of_week_ = to_bits<7>(days_of_week);
  cron.days_of_week_[0] = days_of_week[0] || days_of_week[7];
  // As Vixie cron: a field starting with '*' does not restrict (even `*/2`).
  cron.day_of_month_restricted_ = fields[2].front() != '*';
  cron.day_of_week_restricted_ = fields[4].front() != '*';
  cron.wildcard_ = fields[0].front() == '*' || fields[1].front() == '*';

  // With both day fields restricted, any weekday is enough. Otherwise the
  // days of the month must fall in a chosen month; the weekdays then come
  // round over the years.
  if (!(cron.day_of_month_restricted_ && cron.day_of_week_restricted_)) {
    bool possible = false;
    for (unsigned month = 1; month <= 12; ++month) {
      for (unsigned day = 1; day <= days_in(month); ++day) {
        possible = possible || (cron.months_[month] && cron.days_of_month_[day]);
      }
    }
    if (!possible) {
      refuse(kDayOfMonth, fields[2],
             {"never falls in the months '", fields[3], "': the expression never matches"});
    }
  }
  return cron;
}

bool CronExpression::matches_day(std::chrono::year_month_day day) const {
  if (!months_[static_cast<unsigned>(day.month())]) {
    return false;
  }
  const bool dom = days_of_month_[static_cast<unsigned>(day.day())];
  const bool dow = days_of_week_[std::chrono::weekday(day).c_encoding()];
  if (day_of_month_restricted_ && day_of_week_restricted_) {
    return dom || dow;
  }
  return dom && dow;
}

bool CronExpression::matches(LocalMinute minute) const {
  using namespace std::chrono;
  const auto day = floor<days>(minute);
  const hh_mm_ss time(minute - day);
  return matches_day(year_month_day(sys_days(day.time_since_epoch()))) &&
         hours_[static_cast<size_t>(time.hours().count())] &&
         minutes_[static_cast<size_t>(time.minutes().count())];
}

std::optional<LocalMinute> CronExpression::first_match(LocalMinute from, LocalMinute before) const {
  using namespace std::chrono;
  auto day = floor<days>(from);
  auto earliest = from - day;
  for (; day < before; day += days(1), earliest = minutes(0)) {
    if (!matches_day(year_month_day(sys_days(day.time_since_epoch())))) {
      continue;
    }
    for (auto at = earliest; at < days(1) && day + at < before; at += minutes(1)) {
      const hh_mm_ss time(at);
      if (!hours_[static_cast<size_t>(time.hours().count())]) {
        at += minutes(59 - time.minutes().count());  // on to the next hour
      } else if (minutes_[static_cast<size_t>(time.minutes().count())]) {
        return day + at;
      }
    }
  }
  return std::nullopt;
}

}  // namespace exportd
