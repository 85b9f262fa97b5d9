// Archive object names and ack day folders: dated in UTC.
#include <catch2/catch.hpp>

#include "domain/dated_names.h"

using namespace exportd;
using namespace std::chrono;

TEST_CASE("archived copies are named by org and UTC day of the write", "[domain][archive]") {
  // 2026-11-23T23:30:00Z: still the 23rd in UTC, whatever the host's zone.
  const system_clock::time_point late_evening = sys_days{2026y / November / 23} + 23h + 30min;
  CHECK(archive_object_name("acme", "sales_order_x.json", late_evening) ==
        "acme/2026/11/23/sales_order_x.json");
  CHECK(archive_object_name("acme", "f.json", sys_days{2027y / January / 2}) ==
        "acme/2027/01/02/f.json");
}

TEST_CASE("handled ack files go into one folder per UTC day", "[domain][ack]") {
  CHECK(day_folder_name(sys_days{2026y / November / 23} + 1s) == "2026-11-23");
  CHECK(day_folder_name(sys_days{2026y / December / 31} + 23h + 59min + 59s) == "2026-12-31");
}
