// The status line, from the PENDING count and the deliveries since start.
#include "app/service_status.h"

#include <map>

namespace exportd {

std::string service_status_line(std::optional<long long> pending, std::uint64_t delivered,
                                std::optional<std::chrono::system_clock::time_point> last_delivery,
                                std::chrono::system_clock::time_point now,
                                const std::string& note) {
  std::string line = pending ? std::to_string(*pending) + " pending" : "database unreachable";
  line += ", " + std::to_string(delivered) + " delivered since start";
  if (last_delivery) {
    const auto ago = std::chrono::duration_cast<std::chrono::seconds>(now - *last_delivery);
    line += ", last delivery " + std::to_string(std::max<long long>(ago.count(), 0)) + " s ago";
  } else {
    line += ", no delivery yet";
  }
  if (!note.empty()) {
    line += ", " + note;
  }
  return line;
}

std::string failing_endpoints_note(const std::vector<std::string>& endpoints, int workers) {
  if (endpoints.empty()) {
    return "";
  }
  std::map<std::string, int> held;
  for (const auto& endpoint : endpoints) {
    ++held[endpoint];
  }
  std::string note = std::to_string(endpoints.size()) + " of " + std::to_string(workers) +
                     " workers in calls to failing or unreached servers:";
  const char* separator = " ";
  for (const auto& [endpoint, count] : held) {
    note.append(separator).append(endpoint).append(" (").append(std::to_string(count)).append(")");
    separator = ", ";
  }
  return note;
}

}  // namespace exportd
