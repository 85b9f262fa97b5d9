// The one-line summary the service manager shows (`systemctl status`).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace exportd {

// "3 pending, 120 delivered since start, last delivery 4 s ago"
std::string service_status_line(std::optional<long long> pending, std::uint64_t delivered,
                                std::optional<std::chrono::system_clock::time_point> last_delivery,
                                std::chrono::system_clock::time_point now);

}  // namespace exportd
