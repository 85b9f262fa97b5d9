// A standard 5-field cron expression (minute hour day-of-month month
// day-of-week), as crontab(5) spells it, matched against local civil minutes.
// Pure: which instant a local minute is belongs to the time zone (schedule.h).
#pragma once

#include <bitset>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace exportd {

// A minute of a local wall clock, with no time zone attached.
using LocalMinute = std::chrono::local_time<std::chrono::minutes>;

class CronExpression {
 public:
  // `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, lists of these;
  // month names JAN-DEC and day names SUN-SAT in any case; day-of-week 0-7,
  // 0 and 7 both Sunday. Throws Failure(permanent) naming the field and the
  // offending text, also for an expression no date can ever match
  // (`0 0 31 2 *`), which would otherwise wait for ever.
  static CronExpression parse(std::string_view text);

  bool matches(LocalMinute minute) const;
  // The first matching local minute in [from, before). A parsed expression
  // matches some minute of every 400 years (the Gregorian calendar's cycle).
  std::optional<LocalMinute> first_match(LocalMinute from, LocalMinute before) const;

  // Vixie cron's "wildcard" entries: minute or hour field starting with `*`.
  // They run by the wall clock around daylight-saving changes, where entries
  // at fixed times are caught up or not repeated (schedule.h).
  bool is_wildcard() const { return wildcard_; }

  const std::string& text() const { return text_; }
  bool operator==(const CronExpression& other) const { return text_ == other.text_; }

 private:
  bool matches_day(std::chrono::year_month_day day) const;

  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_of_month_;  // 1-31
  std::bitset<13> months_;         // 1-12
  std::bitset<7> days_of_week_;    // 0 Sunday - 6 Saturday
  bool day_of_month_restricted_ = false;
  bool day_of_week_restricted_ = false;
  bool wildcard_ = false;
};

}  // namespace exportd
