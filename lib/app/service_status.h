// The one-line summary the service manager shows (`systemctl status`).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace exportd {

// "3 pending, 120 delivered since start, last delivery 4 s ago", then the
// note of failing_endpoints_note when there is one.
std::string service_status_line(std::optional<long long> pending, std::uint64_t delivered,
                                std::optional<std::chrono::system_clock::time_point> last_delivery,
                                std::chrono::system_clock::time_point now,
                                const std::string& note = "");

// "2 of 4 workers in calls to failing or unreached servers: sftp://a:22 (2)", from one
// endpoint per such worker; empty when there is none.
std::string failing_endpoints_note(const std::vector<std::string>& endpoints, int workers);

}  // namespace exportd
