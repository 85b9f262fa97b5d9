// When a connection's exports may be delivered, or its ack files polled: a
// cron expression read on the wall clock of an IANA time zone, with Vixie
// cron's rules around daylight-saving changes (docs/configuration.md,
// "Schedules").
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "domain/cron.h"

namespace date {
class time_zone;
}

namespace exportd {

using SysMinute = std::chrono::sys_time<std::chrono::minutes>;

class CronSchedule {
 public:
  // Throws Failure(permanent) naming the field of a bad expression, or the
  // zone when the system's tz database does not know it.
  CronSchedule(std::string_view cron, std::string_view time_zone);

  // Whether the minute holding `at` is one of the schedule's.
  bool matches(std::chrono::system_clock::time_point at) const;
  // The start of the first of the schedule's minutes after the one holding `after`.
  SysMinute next_matching_minute(std::chrono::system_clock::time_point after) const;

  const CronExpression& cron() const { return cron_; }
  const std::string& time_zone() const { return time_zone_; }
  bool operator==(const CronSchedule& other) const {
    return cron_ == other.cron_ && time_zone_ == other.time_zone_;
  }

 private:
  CronExpression cron_;
  std::string time_zone_;
  const date::time_zone* zone_;  // the tz database's, which lives as long as the process
};

}  // namespace exportd
