// Cron schedules in a time zone. The zone's rules come from the system's tz
// database (/usr/share/zoneinfo), which the date library reads once per
// process and per zone and then keeps: installed, read-only reference data,
// like the code's own tables, not the state of anything the daemon works on.
// Reading it here keeps a connection's settings checked as a whole where they
// are parsed (an unknown zone refused by `connection set`) without handing a
// time-zone port to every caller of the domain.
#include "domain/schedule.h"

#include <date/tz.h>

#include "domain/failure.h"

namespace exportd {

namespace {

const date::time_zone* locate(std::string_view name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    std::string message = "'";
    message.append(name).append("' is not a time zone of the tz database (/usr/share/zoneinfo)");
    throw Failure(FailureKind::permanent, message);
  }
}

LocalMinute to_local(date::sys_seconds at, std::chrono::seconds offset) {
  return std::chrono::floor<std::chrono::minutes>(
      std::chrono::local_seconds(at.time_since_epoch() + offset));
}

}  // namespace

CronSchedule::CronSchedule(std::string_view cron, std::string_view time_zone)
    : cron_(CronExpression::parse(cron)), time_zone_(time_zone), zone_(locate(time_zone)) {}

bool CronSchedule::matches(std::chrono::system_clock::time_point at) const {
  const auto minute = std::chrono::floor<std::chrono::minutes>(at);
  return next_matching_minute(minute - std::chrono::minutes(1)) == minute;
}

// The zone's history is a run of periods of one UTC offset each; within one,
// local time runs with UTC, so the first match is the cron's first local
// match before the period ends. Where a period begins with a jump:
// - forward (a local hour skipped): entries at fixed times whose minutes were
//   skipped run at the period's first minute; wildcard entries run by the
//   clock, so the skipped minutes are simply gone;
// - backward (a local hour repeated): fixed-time entries do not run again in
//   the repeat; wildcard entries run in both.
SysMinute CronSchedule::next_matching_minute(std::chrono::system_clock::time_point after) const {
  using namespace std::chrono;
  auto from = floor<seconds>(floor<minutes>(after) + minutes(1));
  // parse() promises a matching local minute within 400 years.
  const auto give_up = from + years(401);
  while (from < give_up) {
    const auto period = zone_->get_info(from);
    const auto before = zone_->get_info(period.begin - seconds(1));
    const auto jump = period.offset - before.offset;
    const auto local_begin = to_local(period.begin, period.offset);
    auto local_from = to_local(from, period.offset);
    if (!cron_.is_wildcard() && jump > seconds(0) && from == period.begin &&
        cron_.first_match(to_local(period.begin, before.offset), local_begin)) {
      return floor<minutes>(from);
    }
    if (!cron_.is_wildcard() && jump < seconds(0)) {
      local_from = std::max(local_from, to_local(period.begin, before.offset));
    }
    if (const auto match = cron_.first_match(local_from, to_local(period.end, period.offset))) {
      return floor<minutes>(sys_seconds(match->time_since_epoch() - period.offset));
    }
    from = period.end;
  }
  throw std::logic_error(std::string("cron schedule '")
                             .append(cron_.text())
                             .append("' matched no minute in 400 years"));
}

}  // namespace exportd
