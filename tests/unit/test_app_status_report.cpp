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
  report.connections = {
      {"acme",
       "c1",
       true,
       "2025-12-26T10:00:01Z",
       "cannot list",
       {2, 7300s},
       R"({"mode":"filesystem","export_path":"/e","ack_path":"/a",)"
       R"("delivery_schedule":{"cron":"*/15 6-21 * * 1-5","timezone":"Europe/Berlin"}})",
       2,
       ConnectionReport::Circuit{"open", 3, "2025-12-26T10:00:00Z", "host-a:41"}},
      {"zeta",
       "c2",
       false,
       std::nullopt,
       std::nullopt,
       {},
       R"({"mode":"filesystem","export_path":"/e","ack_path":"/a"})",
       0,
       std::nullopt}};
  return report;
}

// Friday 2026-11-27, 21:50 in Berlin: acme's window reopens on Monday at 06:00 (05:00Z).
const auto kFridayEvening =
    std::chrono::sys_days(std::chrono::year(2026) / 11 / 27) + 20h + 50min + 12s;

}  // namespace

TEST_CASE("status --json keeps its keys, their order and nulls", "[app]") {
  CHECK(status_report_json(sample(), kFridayEvening).dump() ==
        R"({"exports":{"PENDING":3,"SENT":0,"ACKED":7,"FAILED":2},)"
        R"("oldest_pending_age_s":95,"failed_last_24h":1,"connections":[)"
        R"({"org":"acme","connection_id":"c1","active":true,)"
        R"("last_ack_poll_at":"2025-12-26T10:00:01Z","last_ack_poll_error":"cannot list",)"
        R"("ack_overdue":2,"oldest_ack_overdue_age_s":7300,)"
        R"("next_delivery_window":{"at":"2026-11-30T05:00:00Z","timezone":"Europe/Berlin",)"
        R"("cron":"*/15 6-21 * * 1-5"},"in_flight":2,)"
        R"("circuit":{"state":"open","consecutive_failures":3,"since":"2025-12-26T10:00:00Z",)"
        R"("reported_by":"host-a:41"}},)"
        R"({"org":"zeta","connection_id":"c2","active":false,)"
        R"("last_ack_poll_at":null,"last_ack_poll_error":null,)"
        R"("ack_overdue":0,"oldest_ack_overdue_age_s":null,"next_delivery_window":null,)"
        R"("in_flight":0,"circuit":null}]})");
  CHECK(status_report_json(StatusReport{}, kFridayEvening).dump() ==
        R"({"exports":{},"oldest_pending_age_s":null,"failed_last_24h":0,"connections":[]})");
}

TEST_CASE("status prints one line per figure and per connection", "[app]") {
  CHECK(status_report_text(sample(), kFridayEvening) ==
        "exports: PENDING 3 SENT 0 ACKED 7 FAILED 2\n"
        "oldest PENDING: 95 s\n"
        "FAILED in the last 24 h: 1\n"
        "connections:\n"
        "  acme: last ack poll 2025-12-26T10:00:01Z, failed: cannot list; overdue 2 (oldest "
        "sent 7300 s ago); in flight 2; circuit open after 3 failures since "
        "2025-12-26T10:00:00Z; next delivery window 2026-11-30T05:00:00Z (Europe/Berlin)\n"
        "  zeta (inactive): last ack poll never; overdue 0; in flight 0\n");
}

TEST_CASE("status: inside a delivery window the window is the current minute", "[app][cron]") {
  auto report = sample();
  const auto monday = std::chrono::sys_days(std::chrono::year(2026) / 11 / 30) + 5h + 15min + 30s;
  const auto json = status_report_json(report, monday);
  CHECK(json["connections"][0]["next_delivery_window"]["at"] == "2026-11-30T05:15:00Z");
  // Settings that do not parse have no window to show.
  report.connections[0].config = R"({"mode":"ftp"})";
  CHECK(status_report_json(report, monday)["connections"][0]["next_delivery_window"].is_null());
}
