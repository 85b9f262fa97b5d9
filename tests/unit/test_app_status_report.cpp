// The `status` command's JSON (an interface scripts read) and text.
#include <catch2/catch.hpp>

#include "app/status_report.h"

using namespace exportd;
using namespace std::chrono_literals;

namespace {

StatusReport sample() {
  StatusReport report;
  report.queue.exports_by_status = {{ExportStatus::failed, 2},
                                    {ExportStatus::pending, 3},
                                    {ExportStatus::sent, 0},
                                    {ExportStatus::acked, 7}};
  report.queue.oldest_pending_age = 95s;
  report.failed_last_24h = 1;
  report.connections = {{"acme", "c1", true, "2025-12-26T10:00:01Z", "cannot list", {2, 7300s}},
                        {"zeta", "c2", false, std::nullopt, std::nullopt, {}}};
  return report;
}

}  // namespace

TEST_CASE("status --json keeps its keys, their order and nulls", "[app]") {
  CHECK(status_report_json(sample()).dump() ==
        R"({"exports":{"PENDING":3,"SENT":0,"ACKED":7,"FAILED":2},)"
        R"("oldest_pending_age_s":95,"failed_last_24h":1,"connections":[)"
        R"({"org":"acme","connection_id":"c1","active":true,)"
        R"("last_ack_poll_at":"2025-12-26T10:00:01Z","last_ack_poll_error":"cannot list",)"
        R"("ack_overdue":2,"oldest_ack_overdue_age_s":7300},)"
        R"({"org":"zeta","connection_id":"c2","active":false,)"
        R"("last_ack_poll_at":null,"last_ack_poll_error":null,)"
        R"("ack_overdue":0,"oldest_ack_overdue_age_s":null}]})");
  CHECK(status_report_json(StatusReport{}).dump() ==
        R"({"exports":{},"oldest_pending_age_s":null,"failed_last_24h":0,"connections":[]})");
}

TEST_CASE("status prints one line per figure and per connection", "[app]") {
  CHECK(status_report_text(sample()) ==
        "exports: PENDING 3 SENT 0 ACKED 7 FAILED 2\n"
        "oldest PENDING: 95 s\n"
        "FAILED in the last 24 h: 1\n"
        "connections:\n"
        "  acme: last ack poll 2025-12-26T10:00:01Z, failed: cannot list; overdue 2 (oldest "
        "sent 7300 s ago)\n"
        "  zeta (inactive): last ack poll never; overdue 0\n");
}
