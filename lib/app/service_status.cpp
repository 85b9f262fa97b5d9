// The status line, from the PENDING count and the deliveries since start.
#include "app/service_status.h"

namespace exportd {

std::string service_status_line(std::optional<long long> pending, std::uint64_t delivered,
                                std::optional<std::chrono::system_clock::time_point> last_delivery,
                                std::chrono::system_clock::time_point now) {
  std::string line = pending ? std::to_string(*pending) + " pending" : "database unreachable";
  line += ", " + std::to_string(delivered) + " delivered since start";
  if (last_delivery) {
    const auto ago = std::chrono::duration_cast<std::chrono::seconds>(now - *last_delivery);
    line += ", last delivery " + std::to_string(std::max<long long>(ago.count(), 0)) + " s ago";
  } else {
    line += ", no delivery yet";
  }
  return line;
}

}  // namespace exportd
