// The `status` command's two renderings of one StatusReport.
#include "app/status_report.h"

#include <cstdio>

#include "domain/connection_settings.h"

namespace exportd {

namespace {

nlohmann::ordered_json or_null(const std::optional<std::string>& text) {
  return text ? nlohmann::ordered_json(*text) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json age_or_null(const std::optional<std::chrono::seconds>& age) {
  return age ? nlohmann::ordered_json(age->count()) : nlohmann::ordered_json(nullptr);
}

std::string utc_text(SysMinute at) {
  const auto day = std::chrono::floor<std::chrono::days>(at);
  const std::chrono::year_month_day date(day);
  const std::chrono::hh_mm_ss time(at - day);
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:00Z", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()));
  return text;
}

// The start of the window the connection's exports go in next: the current
// minute if it matches. Nullopt without a delivery_schedule, and for
// settings that do not parse (their exports fail, saying why).
std::optional<std::string> next_delivery_window(const ConnectionSettings& settings,
                                                std::chrono::system_clock::time_point now) {
  const auto& schedule = settings.delivery_schedule;
  if (!schedule) {
    return std::nullopt;
  }
  return utc_text(schedule->matches(now) ? std::chrono::floor<std::chrono::minutes>(now)
                                         : schedule->next_matching_minute(now));
}

nlohmann::ordered_json circuit_json(const std::optional<ConnectionReport::Circuit>& circuit) {
  if (!circuit) {
    return nullptr;
  }
  return {{"state", circuit->state},
          {"consecutive_failures", circuit->consecutive_failures},
          {"since", circuit->since},
          {"reported_by", circuit->reported_by}};
}

std::optional<ConnectionSettings> settings_of(const ConnectionReport& connection) {
  try {
    return parse_connection_settings(nlohmann::json::parse(connection.config));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

nlohmann::ordered_json status_report_json(const StatusReport& report,
                                          std::chrono::system_clock::time_point now) {
  nlohmann::ordered_json json;
  nlohmann::ordered_json depth = nlohmann::ordered_json::object();
  for (const auto& [status, count] : report.queue.exports_by_status) {
    depth[std::string(to_string(status))] = count;
  }
  json["exports"] = depth;
  json["oldest_pending_age_s"] = age_or_null(report.queue.oldest_pending_age);
  json["failed_last_24h"] = report.failed_last_24h;
  nlohmann::ordered_json connections = nlohmann::ordered_json::array();
  for (const auto& c : report.connections) {
    nlohmann::ordered_json window = nullptr;
    const auto settings = settings_of(c);
    if (const auto at = settings ? next_delivery_window(*settings, now) : std::nullopt) {
      window = {{"at", *at},
                {"timezone", settings->delivery_schedule->time_zone()},
                {"cron", settings->delivery_schedule->cron().text()}};
    }
    connections.push_back({{"org", c.org},
                           {"connection_id", c.connection_id},
                           {"active", c.active},
                           {"last_ack_poll_at", or_null(c.last_ack_poll_at)},
                           {"last_ack_poll_error", or_null(c.last_ack_poll_error)},
                           {"ack_overdue", c.ack_overdue.exports},
                           {"oldest_ack_overdue_age_s", age_or_null(c.ack_overdue.oldest_age)},
                           {"next_delivery_window", window},
                           {"in_flight", c.in_flight},
                           {"circuit", circuit_json(c.circuit)}});
  }
  json["connections"] = connections;
  return json;
}

std::string status_report_text(const StatusReport& report,
                               std::chrono::system_clock::time_point now) {
  std::string text = "exports:";
  for (const auto& [status, count] : report.queue.exports_by_status) {
    text.append(" ").append(to_string(status)).append(" ").append(std::to_string(count));
  }
  text +=
      "\noldest PENDING: " + (report.queue.oldest_pending_age
                                  ? std::to_string(report.queue.oldest_pending_age->count()) + " s"
                                  : std::string("none"));
  text += "\nFAILED in the last 24 h: " + std::to_string(report.failed_last_24h);
  text += "\nconnections:\n";
  for (const auto& c : report.connections) {
    text += "  " + c.org + (c.active ? "" : " (inactive)") + ": last ack poll " +
            c.last_ack_poll_at.value_or("never") +
            (c.last_ack_poll_error ? ", failed: " + *c.last_ack_poll_error : "") + "; overdue " +
            std::to_string(c.ack_overdue.exports) +
            (c.ack_overdue.oldest_age
                 ? " (oldest sent " + std::to_string(c.ack_overdue.oldest_age->count()) + " s ago)"
                 : "");
    text += "; in flight " + std::to_string(c.in_flight);
    if (c.circuit) {
      text.append("; circuit ").append(c.circuit->state);
      if (c.circuit->consecutive_failures > 0) {
        text.append(" after ")
            .append(std::to_string(c.circuit->consecutive_failures))
            .append(" failures");
      }
      text.append(" since ").append(c.circuit->since);
    }
    const auto settings = settings_of(c);
    if (const auto at = settings ? next_delivery_window(*settings, now) : std::nullopt) {
      text.append("; next delivery window ")
          .append(*at)
          .append(" (")
          .append(settings->delivery_schedule->time_zone())
          .append(")");
    }
    text += "\n";
  }
  return text;
}

}  // namespace exportd
