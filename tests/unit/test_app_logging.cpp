// Structured logging: whatever a value holds, one event is one line in both formats.
#include <catch2/catch.hpp>

#include "logging/logging.h"
#include "tests/support/captured_log.h"

using namespace exportd;
using namespace exportd::testing;

namespace {

const char* kHostileName = "ack_x.json\n2026-01-01T00:00:00.000Z error forged=1\tx\r\x1b[2J";

}  // namespace

TEST_CASE("text log: control characters in values and messages stay on one line", "[logging]") {
  CapturedLog log(LogFormat::text);
  log_event(Level::warn, "ack file moved to error",
            {{"file", kHostileName}, {"org", "o1"}, {"name", "a.json\nforged"}});
  log_event(Level::warn, std::string("cannot read '") + kHostileName + "'", {{"n", 3}});
  log_event(Level::info, "plain", {{"name", "a=b"}, {"quote", "say \"hi\""}, {"tab", "a\tb"}});

  const auto lines = log.lines();
  REQUIRE(lines.size() == 3);
  for (const auto& line : lines) {
    CHECK(line.find_first_of("\r\t\x1b") == std::string::npos);
  }
  CHECK(lines[0].find(
            R"(file="ack_x.json\n2026-01-01T00:00:00.000Z error forged=1\tx\r\u001b[2J")") !=
        std::string::npos);
  CHECK(lines[0].find(" org=o1") != std::string::npos);
  CHECK(lines[0].find(R"( name="a.json\nforged")") != std::string::npos);
  CHECK(lines[1].find(R"("cannot read 'ack_x.json\n2026)") != std::string::npos);
  CHECK(lines[2].find(R"(name="a=b")") != std::string::npos);
  CHECK(lines[2].find(R"(quote="say \"hi\"")") != std::string::npos);
  CHECK(lines[2].find(R"(tab="a\tb")") != std::string::npos);
}

TEST_CASE("text log: invalid UTF-8 in a value is replaced, not written raw", "[logging]") {
  CapturedLog log(LogFormat::text);
  log_event(Level::info, "listed", {{"file", std::string("a\xff\xfe.json")}});
  const auto lines = log.lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find('\xff') == std::string::npos);
  CHECK(lines[0].find("file=\"a\xEF\xBF\xBD\xEF\xBF\xBD.json\"") != std::string::npos);
}

TEST_CASE("json log: control characters in values and keys stay on one line", "[logging]") {
  CapturedLog log(LogFormat::json);
  log_event(Level::warn, kHostileName, {{"file", kHostileName}, {std::string("k\ney"), 1}});
  const auto lines = log.lines();
  REQUIRE(lines.size() == 1);
  const auto parsed = nlohmann::json::parse(lines[0]);
  CHECK(parsed["msg"] == kHostileName);
  CHECK(parsed["file"] == kHostileName);
  CHECK(parsed["k\ney"] == 1);
}
