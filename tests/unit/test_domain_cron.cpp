// Cron expressions (crontab(5) syntax) and cron schedules in a time zone,
// with Vixie cron's rules around Europe/Berlin's daylight-saving changes.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include "domain/cron.h"
#include "domain/failure.h"
#include "domain/schedule.h"

using namespace exportd;
using namespace std::chrono;

namespace {

LocalMinute local(int y, unsigned mo, unsigned d, int h, int mi) {
  return local_days(year(y) / month(mo) / day(d)) + hours(h) + minutes(mi);
}

system_clock::time_point utc(int y, unsigned mo, unsigned d, int h, int mi) {
  return sys_days(year(y) / month(mo) / day(d)) + hours(h) + minutes(mi);
}

std::string iso(SysMinute at) {
  const auto day = floor<days>(at);
  const year_month_day date(day);
  const hh_mm_ss time(at - day);
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()));
  return text;
}

std::string refusal(const std::string& expression) {
  try {
    CronExpression::parse(expression);
  } catch (const Failure& failure) {
    CHECK(failure.kind() == FailureKind::permanent);
    return failure.what();
  }
  return "accepted";
}

}  // namespace

TEST_CASE("cron fields: stars, numbers, ranges, steps and lists", "[cron]") {
  const auto office = CronExpression::parse("*/15 6-21 * * 1-5");
  // 2026-11-23 is a Monday, 2026-11-28 a Saturday.
  CHECK(office.matches(local(2026, 11, 23, 6, 0)));
  CHECK(office.matches(local(2026, 11, 23, 6, 45)));
  CHECK(office.matches(local(2026, 11, 23, 21, 45)));
  CHECK_FALSE(office.matches(local(2026, 11, 23, 6, 10)));
  CHECK_FALSE(office.matches(local(2026, 11, 23, 22, 0)));
  CHECK_FALSE(office.matches(local(2026, 11, 23, 5, 45)));
  CHECK_FALSE(office.matches(local(2026, 11, 28, 12, 0)));

  const auto listed = CronExpression::parse("5,10-12,50-59/4 * * * *");
  for (const int minute : {5, 10, 11, 12, 50, 54, 58}) {
    CHECK(listed.matches(local(2026, 1, 1, 0, minute)));
  }
  for (const int minute : {0, 6, 13, 51, 59}) {
    CHECK_FALSE(listed.matches(local(2026, 1, 1, 0, minute)));
  }
  const auto stepped = CronExpression::parse("0 */7 * * *");
  for (const int hour : {0, 7, 14, 21}) {
    CHECK(stepped.matches(local(2026, 1, 1, hour, 0)));
  }
  CHECK_FALSE(stepped.matches(local(2026, 1, 1, 1, 0)));
  CHECK(CronExpression::parse("59 23 31 12 *").matches(local(2026, 12, 31, 23, 59)));
  CHECK(CronExpression::parse("\t0  0 1 1 *  ").matches(local(2027, 1, 1, 0, 0)));
}

TEST_CASE("cron names of months and days, in any case; Sunday is 0 and 7", "[cron]") {
  const auto spring = CronExpression::parse("0 12 * mar-May,OCT Sun");
  CHECK(spring.matches(local(2026, 3, 29, 12, 0)));   // Sunday in March
  CHECK(spring.matches(local(2026, 10, 25, 12, 0)));  // Sunday in October
  CHECK_FALSE(spring.matches(local(2026, 6, 28, 12, 0)));
  CHECK_FALSE(spring.matches(local(2026, 3, 30, 12, 0)));
  for (const auto* sunday : {"0 0 * * 0", "0 0 * * 7", "0 0 * * SUN", "0 0 * * 5-7"}) {
    INFO(sunday);
    CHECK(CronExpression::parse(sunday).matches(local(2026, 11, 29, 0, 0)));
  }
  CHECK_FALSE(CronExpression::parse("0 0 * * 7").matches(local(2026, 11, 28, 0, 0)));
  CHECK(CronExpression::parse("0 0 * * mon-fri").matches(local(2026, 11, 27, 0, 0)));
}

TEST_CASE("cron days: either day field when both are restricted, as cron does", "[cron]") {
  const auto either = CronExpression::parse("0 0 13 * 5");
  CHECK(either.matches(local(2026, 3, 13, 0, 0)));  // Friday the 13th
  CHECK(either.matches(local(2026, 3, 20, 0, 0)));  // any Friday
  CHECK(either.matches(local(2026, 4, 13, 0, 0)));  // the 13th, a Monday
  CHECK_FALSE(either.matches(local(2026, 4, 14, 0, 0)));
  // A field starting with '*' does not restrict, even with a step: both must match.
  const auto both = CronExpression::parse("0 0 */10 * 1");
  CHECK(both.matches(local(2026, 12, 21, 0, 0)));        // the 21st, a Monday
  CHECK_FALSE(both.matches(local(2026, 12, 14, 0, 0)));  // a Monday, not 1/11/21/31
  CHECK_FALSE(both.matches(local(2026, 12, 11, 0, 0)));  // the 11th, a Friday
}

TEST_CASE("cron refusals name the field and the offending text", "[cron]") {
  CHECK_THAT(refusal("* * * *"), Catch::Contains("has 4"));
  CHECK_THAT(refusal("* * * * * *"), Catch::Contains("has 6"));
  CHECK_THAT(refusal("60 * * * *"),
             Catch::Contains("minute field '60'") && Catch::Contains("outside 0-59"));
  CHECK_THAT(refusal("0 24 * * *"), Catch::Contains("hour field '24'"));
  CHECK_THAT(refusal("0 0 0 * *"), Catch::Contains("day-of-month field '0'"));
  CHECK_THAT(refusal("0 0 * 13 *"), Catch::Contains("month field '13'"));
  CHECK_THAT(refusal("0 0 * * 8"), Catch::Contains("day-of-week field '8'"));
  CHECK_THAT(refusal("0 0 * FOO *"),
             Catch::Contains("month field 'FOO'") && Catch::Contains("not a number or a name"));
  CHECK_THAT(refusal("0 0 * * monday"), Catch::Contains("day-of-week field 'monday'"));
  CHECK_THAT(refusal("*/0 * * * *"),
             Catch::Contains("minute field '*/0'") && Catch::Contains("step of 0"));
  CHECK_THAT(refusal("*/x * * * *"), Catch::Contains("step 'x'"));
  CHECK_THAT(refusal("30-10 * * * *"), Catch::Contains("'30-10' that runs backwards"));
  CHECK_THAT(refusal("5/10 * * * *"), Catch::Contains("not after * or a range"));
  CHECK_THAT(refusal("1,,2 * * * *"),
             Catch::Contains("minute field '1,,2'") && Catch::Contains("empty list element"));
  CHECK_THAT(refusal("1- * * * *"), Catch::Contains("minute field '1-'"));
  CHECK_THAT(refusal("-1 * * * *"), Catch::Contains("minute field '-1'"));
  CHECK_THAT(refusal("99999999999 * * * *"), Catch::Contains("minute field '99999999999'"));
  CHECK_THAT(refusal("0 0 31 2,4 *"),
             Catch::Contains("day-of-month field '31'") && Catch::Contains("never matches"));
  CHECK_THAT(refusal(""), Catch::Contains("has 0"));
  // Possible, if rarely: February 29th; the 31st or a weekday when both are restricted.
  CHECK(refusal("0 0 29 2 *") == "accepted");
  CHECK(refusal("0 0 31 2 1") == "accepted");
}

TEST_CASE("a schedule's next matching minute, in its time zone", "[cron]") {
  const CronSchedule nine("0 9 * * *", "Europe/Berlin");
  CHECK(iso(nine.next_matching_minute(utc(2026, 1, 10, 12, 0))) == "2026-01-11T08:00Z");  // CET
  CHECK(iso(nine.next_matching_minute(utc(2026, 7, 10, 12, 0))) == "2026-07-11T07:00Z");  // CEST
  // Strictly after the minute holding the given time.
  CHECK(iso(nine.next_matching_minute(utc(2026, 1, 11, 8, 0) + 30s)) == "2026-01-12T08:00Z");
  CHECK(nine.matches(utc(2026, 1, 11, 8, 0) + 59s));
  CHECK_FALSE(nine.matches(utc(2026, 1, 11, 8, 1)));

  const CronSchedule office("*/15 6-21 * * 1-5", "Europe/Berlin");
  // Friday 2026-11-27 21:50 CET: the next window is Monday 06:00 CET.
  CHECK(iso(office.next_matching_minute(utc(2026, 11, 27, 20, 50))) == "2026-11-30T05:00Z");
  CHECK(iso(CronSchedule("30 0 * * *", "America/New_York")
                .next_matching_minute(utc(2026, 1, 1, 0, 0))) == "2026-01-01T05:30Z");
  // The rarest of days still comes: Sunday, February 29th, 2032.
  CHECK(iso(CronSchedule("0 0 29 2 */7", "UTC").next_matching_minute(utc(2026, 1, 1, 0, 0))) ==
        "2032-02-29T00:00Z");
}

TEST_CASE("spring forward: fixed-time entries of the skipped hour run right after it", "[cron]") {
  // Europe/Berlin, 2026-03-29: 02:00 CET (01:00Z) becomes 03:00 CEST.
  const CronSchedule fixed("30 2 * * *", "Europe/Berlin");
  CHECK(iso(fixed.next_matching_minute(utc(2026, 3, 28, 23, 0))) == "2026-03-29T01:00Z");
  CHECK(iso(fixed.next_matching_minute(utc(2026, 3, 29, 1, 0))) == "2026-03-30T00:30Z");
  // An entry at 03:00 runs once, at the same minute.
  const CronSchedule three("0 3 * * *", "Europe/Berlin");
  CHECK(iso(three.next_matching_minute(utc(2026, 3, 28, 23, 0))) == "2026-03-29T01:00Z");
  CHECK(iso(three.next_matching_minute(utc(2026, 3, 29, 1, 0))) == "2026-03-30T01:00Z");
  // Wildcard entries follow the clock: the skipped minutes are gone.
  const CronSchedule wildcard("*/15 2 * * *", "Europe/Berlin");
  CHECK(iso(wildcard.next_matching_minute(utc(2026, 3, 28, 23, 0))) == "2026-03-30T00:00Z");
  const CronSchedule every_half_hour("*/30 * * * *", "Europe/Berlin");
  CHECK(iso(every_half_hour.next_matching_minute(utc(2026, 3, 29, 0, 45))) == "2026-03-29T01:00Z");
  CHECK(iso(every_half_hour.next_matching_minute(utc(2026, 3, 29, 0, 29))) == "2026-03-29T00:30Z");
}

TEST_CASE("fall back: fixed-time entries do not run again in the repeated hour", "[cron]") {
  // Europe/Berlin, 2026-10-25: 03:00 CEST (01:00Z) becomes 02:00 CET; 02:xx happens twice.
  const CronSchedule fixed("30 2 * * *", "Europe/Berlin");
  CHECK(iso(fixed.next_matching_minute(utc(2026, 10, 24, 23, 0))) == "2026-10-25T00:30Z");
  CHECK(iso(fixed.next_matching_minute(utc(2026, 10, 25, 0, 30))) == "2026-10-26T01:30Z");
  CHECK_FALSE(fixed.matches(utc(2026, 10, 25, 1, 30)));
  // Wildcard entries run in both passes of the hour.
  const CronSchedule wildcard("*/30 2 * * *", "Europe/Berlin");
  auto at = wildcard.next_matching_minute(utc(2026, 10, 24, 23, 0));
  std::string runs = iso(at);
  for (int i = 0; i < 4; ++i) {
    at = wildcard.next_matching_minute(at);
    runs += " " + iso(at);
  }
  CHECK(runs ==
        "2026-10-25T00:00Z 2026-10-25T00:30Z 2026-10-25T01:00Z 2026-10-25T01:30Z "
        "2026-10-26T01:00Z");
}

TEST_CASE("a schedule refuses a zone the tz database does not know", "[cron]") {
  CHECK_THROWS_WITH(CronSchedule("* * * * *", "Mars/Olympus_Mons"),
                    Catch::Contains("'Mars/Olympus_Mons' is not a time zone"));
  CHECK_THROWS_WITH(CronSchedule("* * * * *", "../../etc/passwd"),
                    Catch::Contains("is not a time zone"));
  CHECK_THROWS_WITH(CronSchedule("* * * * 9", "UTC"), Catch::Contains("day-of-week field '9'"));
  CHECK(CronSchedule("* * * * *", "UTC").matches(utc(2026, 1, 1, 0, 0)));
}
