// The `status` command's two renderings of one StatusReport.
#include "app/status_report.h"

namespace exportd {

namespace {

nlohmann::ordered_json or_null(const std::optional<std::string>& text) {
  return text ? nlohmann::ordered_json(*text) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json age_or_null(const std::optional<std::chrono::seconds>& age) {
  return age ? nlohmann::ordered_json(age->count()) : nlohmann::ordered_json(nullptr);
}

}  // namespace

nlohmann::ordered_json status_report_json(const StatusReport& report) {
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
    connections.push_back({{"org", c.org},
                           {"connection_id", c.connection_id},
                           {"active", c.active},
                           {"last_ack_poll_at", or_null(c.last_ack_poll_at)},
                           {"last_ack_poll_error", or_null(c.last_ack_poll_error)},
                           {"ack_overdue", c.ack_overdue.exports},
                           {"oldest_ack_overdue_age_s", age_or_null(c.ack_overdue.oldest_age)}});
  }
  json["connections"] = connections;
  return json;
}

std::string status_report_text(const StatusReport& report) {
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
                 : "") +
            "\n";
  }
  return text;
}

}  // namespace exportd
