// File names, retry policy, state machines and connection settings.
#include <catch2/catch.hpp>
#include <new>
#include <tuple>

#include <nlohmann/json.hpp>

#include "domain/connection_settings.h"
#include "domain/failure.h"
#include "domain/file_name.h"
#include "domain/retry_policy.h"
#include "domain/status.h"

using namespace exportd;
using namespace std::chrono_literals;

TEST_CASE("export file names follow the spec exactly", "[domain]") {
  // 2025-12-26T10:00:01Z
  const auto first_attempt = std::chrono::system_clock::from_time_t(1766743201);
  CHECK(export_file_name("550E8400-E29B-41D4-A716-446655440000",
                         "7C9E6679-7425-40de-944b-e07fc1f90ae7", first_attempt) ==
        "sales_order_550e8400-e29b-41d4-a716-446655440000_20251226_100001_7c9e6679.json");
  CHECK_THROWS(export_file_name("d", "7c9e", first_attempt));
}

TEST_CASE("temp names start with a dot, end in .tmp and are recognised", "[domain]") {
  const auto temp = temp_file_name("sales_order_x.json", "abc");
  CHECK(temp == ".sales_order_x.json.abc.tmp");
  CHECK(is_temp_file_name(temp));
  CHECK_FALSE(is_temp_file_name("sales_order_x.json"));
  CHECK_FALSE(is_temp_file_name("x.tmp"));
}

TEST_CASE("retry delays double, are capped and jittered within [half, full]", "[domain]") {
  const RetryPolicy policy{.max_attempts = 8, .initial_backoff = 5000ms, .max_backoff = 60000ms};
  std::mt19937_64 random(7);
  for (int attempt = 1; attempt <= 12; ++attempt) {
    const std::chrono::milliseconds full = std::min<std::chrono::milliseconds>(
        std::chrono::milliseconds(5000LL << (attempt - 1)), 60000ms);
    for (int i = 0; i < 50; ++i) {
      const auto delay = retry_delay(policy, attempt, random);
      CHECK(delay >= full / 2);
      CHECK(delay <= full);
    }
  }
  CHECK_FALSE(attempts_exhausted(policy, 7));
  CHECK(attempts_exhausted(policy, 8));
}

TEST_CASE("draft and export statuses are named as the database spells them", "[domain]") {
  using D = DraftStatus;
  for (const auto status :
       {D::needs_review, D::ready, D::approved, D::pushing, D::pushed, D::error}) {
    CHECK(parse_draft_status(to_string(status)) == status);
  }
  CHECK(to_string(D::needs_review) == "NEEDS_REVIEW");
  for (const auto status : kExportStatuses) {
    CHECK(parse_export_status(to_string(status)) == status);
  }
  CHECK(to_string(ExportStatus::acked) == "ACKED");
  CHECK_FALSE(parse_draft_status("pushed").has_value());
  CHECK_FALSE(parse_export_status("DONE").has_value());
}

TEST_CASE("a Failure keeps its kind; anything unexpected is permanent, no memory transient",
          "[domain]") {
  for (const auto kind : {FailureKind::transient, FailureKind::unavailable, FailureKind::permanent,
                          FailureKind::refused, FailureKind::bad_config}) {
    CHECK(failure_kind_of(Failure(kind, "x")) == kind);
  }
  CHECK(failure_kind_of(std::logic_error("a bug")) == FailureKind::permanent);
  CHECK(failure_kind_of(std::runtime_error("bad data")) == FailureKind::permanent);
  try {
    std::ignore = nlohmann::json::parse("{");
    FAIL("parsed");
  } catch (const nlohmann::json::exception& e) {
    CHECK(failure_kind_of(e) == FailureKind::permanent);
  }
  CHECK(failure_kind_of(std::bad_alloc()) == FailureKind::transient);
}

TEST_CASE("connection settings: both modes parse, mistakes are permanent and named", "[domain]") {
  const auto fs = parse_connection_settings(
      {{"mode", "filesystem"}, {"export_path", "/d/e"}, {"ack_path", "/d/a"}});
  CHECK(fs.mode == DropzoneMode::filesystem);
  CHECK(fs.atomic_write);
  const auto sftp =
      parse_connection_settings({{"mode", "sftp"},
                                 {"host", "sftp.erp.example"},
                                 {"port", 2222},
                                 {"username", "orderflow"},
                                 {"auth", "publickey"},
                                 {"private_key_path", "/etc/k"},
                                 {"host_key_sha256", "SHA256:" + std::string(43, 'A')},
                                 {"export_path", "/dropzone/exports"},
                                 {"ack_path", "/dropzone/acks"},
                                 {"atomic_write", false},
                                 {"max_attempts", 3}});
  CHECK(sftp.mode == DropzoneMode::sftp);
  CHECK(sftp.port == 2222);
  CHECK_FALSE(sftp.atomic_write);
  CHECK(sftp.max_attempts == 3);

  const auto rejects = [](const nlohmann::json& config, const std::string& naming) {
    try {
      parse_connection_settings(config);
      FAIL("accepted " << config.dump());
    } catch (const Failure& e) {
      CHECK(e.kind() == FailureKind::permanent);
      CHECK_THAT(e.what(), Catch::Contains(naming));
    }
  };
  rejects({{"mode", "filesystem"}, {"export_path", "/e"}, {"ack_path", "/a"}, {"pasword", "x"}},
          "'pasword'");
  rejects({{"mode", "filesystem"}, {"export_path", "rel/e"}, {"ack_path", "/a"}}, "'export_path'");
  rejects({{"mode", "ftp"}, {"export_path", "/e"}, {"ack_path", "/a"}}, "'mode'");
  rejects({{"mode", "sftp"},
           {"host", "h"},
           {"username", "u"},
           {"auth", "none"},
           {"export_path", "/e"},
           {"ack_path", "/a"}},
          "'auth'");
  rejects(nlohmann::json::array(), "object");
  rejects({{"mode", "filesystem"}, {"export_path", "/d/../etc"}, {"ack_path", "/a"}},
          "'export_path'");
  rejects({{"mode", "filesystem"}, {"export_path", "/e"}, {"ack_path", "/a/.."}}, "'ack_path'");
}

TEST_CASE("connection settings: ports and pinned host keys are checked", "[domain]") {
  const auto sftp = [](const nlohmann::json& extra) {
    nlohmann::json config = {{"mode", "sftp"},     {"host", "h"},         {"username", "u"},
                             {"auth", "password"}, {"export_path", "/e"}, {"ack_path", "/a"}};
    config.update(extra);
    return config;
  };
  const std::string key = "SHA256:" + std::string(42, 'x') + "+";
  CHECK(parse_connection_settings(sftp({{"port", 65535}, {"host_key_sha256", key}})).port == 65535);
  CHECK(parse_connection_settings(sftp({{"port", 1}})).host_key_sha256.empty());
  // A server that rotates its key: any one of the pinned fingerprints.
  const std::string other = "SHA256:" + std::string(43, '/');
  CHECK(parse_connection_settings(sftp({{"host_key_sha256", {key, other}}})).host_key_sha256 ==
        std::vector<std::string>{key, other});
  CHECK(parse_connection_settings(sftp({{"host_key_sha256", key}})).host_key_sha256 ==
        std::vector<std::string>{key});
  for (const nlohmann::json& bad : {nlohmann::json(0), nlohmann::json(65536),
                                    nlohmann::json(65536 + 22), nlohmann::json("22")}) {
    INFO(bad.dump());
    try {
      parse_connection_settings(sftp({{"port", bad}}));
      FAIL("accepted");
    } catch (const Failure& e) {
      CHECK_THAT(e.what(), Catch::Contains("'port' must be an integer between 1 and 65535"));
    }
  }
  for (const std::string& bad :
       {std::string("SHA256:abc"), std::string(43, 'A'), "SHA256:" + std::string(44, 'A'),
        "SHA256:" + std::string(42, 'A') + "=", "sha256:" + std::string(43, 'A'),
        "SHA256:" + std::string(42, 'A') + "-", std::string("")}) {
    INFO(bad);
    try {
      parse_connection_settings(sftp({{"host_key_sha256", bad}}));
      FAIL("accepted");
    } catch (const Failure& e) {
      CHECK_THAT(e.what(), Catch::Contains("'host_key_sha256' must be 'SHA256:' followed by 43"));
    }
    try {
      parse_connection_settings(sftp({{"host_key_sha256", {key, bad}}}));
      FAIL("accepted in a list");
    } catch (const Failure& e) {
      CHECK_THAT(e.what(), Catch::Contains("'host_key_sha256' must be 'SHA256:' followed by 43"));
    }
  }
  for (const nlohmann::json& bad : {nlohmann::json::array(), nlohmann::json(42)}) {
    INFO(bad.dump());
    try {
      parse_connection_settings(sftp({{"host_key_sha256", bad}}));
      FAIL("accepted");
    } catch (const Failure& e) {
      CHECK_THAT(e.what(), Catch::Contains("'host_key_sha256' must be"));
    }
  }
}

TEST_CASE("connection settings: ack deadline and what happens when it passes", "[domain]") {
  const auto fs = [](const nlohmann::json& extra) {
    nlohmann::json config = {{"mode", "filesystem"}, {"export_path", "/e"}, {"ack_path", "/a"}};
    config.update(extra);
    return config;
  };
  const auto plain = parse_connection_settings(fs(nlohmann::json::object()));
  CHECK_FALSE(plain.ack_timeout_s);
  CHECK(plain.on_ack_timeout == AckTimeoutAction::alert);
  const auto failing =
      parse_connection_settings(fs({{"ack_timeout_s", 2}, {"on_ack_timeout", "fail"}}));
  CHECK(failing.ack_timeout_s == 2);
  CHECK(failing.on_ack_timeout == AckTimeoutAction::fail);
  CHECK(parse_connection_settings(fs({{"ack_timeout_s", 0}})).ack_timeout_s == 0);
  CHECK(parse_connection_settings(fs({{"ack_timeout_s", 31536000}})).ack_timeout_s == 31536000);
  CHECK(parse_connection_settings(fs({{"on_ack_timeout", "alert"}})).on_ack_timeout ==
        AckTimeoutAction::alert);
  const std::pair<nlohmann::json, std::string> rows[] = {
      {{{"ack_timeout_s", -1}}, "'ack_timeout_s' must be an integer from 0 (never) to 31536000"},
      {{{"ack_timeout_s", 1.5}}, "'ack_timeout_s' must be an integer from 0 (never) to 31536000"},
      {{{"ack_timeout_s", "60"}}, "'ack_timeout_s' must be an integer from 0 (never) to 31536000"},
      {{{"ack_timeout_s", 31536001}},
       "'ack_timeout_s' must be an integer from 0 (never) to 31536000"},
      {{{"ack_timeout_s", 4294967296LL}},
       "'ack_timeout_s' must be an integer from 0 (never) to 31536000"},
      {{{"on_ack_timeout", "FAIL"}}, "'on_ack_timeout' must be 'alert' or 'fail', got \"FAIL\""},
      {{{"on_ack_timeout", true}}, "'on_ack_timeout' must be 'alert' or 'fail', got true"},
  };
  for (const auto& [extra, naming] : rows) {
    INFO(extra.dump());
    try {
      parse_connection_settings(fs(extra));
      FAIL("accepted");
    } catch (const Failure& e) {
      CHECK(e.kind() == FailureKind::permanent);
      CHECK_THAT(e.what(), Catch::Contains(naming));
    }
  }
}

TEST_CASE("connection settings: schedules and marker files", "[domain][cron]") {
  const auto fs = [](const nlohmann::json& extra) {
    nlohmann::json config = {{"mode", "filesystem"}, {"export_path", "/e"}, {"ack_path", "/a"}};
    config.update(extra);
    return config;
  };
  const auto plain = parse_connection_settings(fs(nlohmann::json::object()));
  CHECK_FALSE(plain.delivery_schedule);
  CHECK_FALSE(plain.ack_schedule);
  CHECK_FALSE(plain.done_file);
  CHECK_FALSE(plain.checksum_file);
  const auto scheduled = parse_connection_settings(
      fs({{"delivery_schedule", {{"cron", "*/15 6-21 * * 1-5"}, {"timezone", "Europe/Berlin"}}},
          {"ack_schedule", {{"cron", "0 * * * *"}, {"timezone", "UTC"}}},
          {"done_file", true},
          {"checksum_file", true}}));
  REQUIRE(scheduled.delivery_schedule);
  CHECK(scheduled.delivery_schedule->cron().text() == "*/15 6-21 * * 1-5");
  CHECK(scheduled.delivery_schedule->time_zone() == "Europe/Berlin");
  REQUIRE(scheduled.ack_schedule);
  CHECK(scheduled.ack_schedule->time_zone() == "UTC");
  CHECK(scheduled.done_file);
  CHECK(scheduled.checksum_file);

  const auto rejects = [](const nlohmann::json& config, const std::string& naming) {
    INFO(config.dump());
    try {
      parse_connection_settings(config);
      FAIL("accepted");
    } catch (const Failure& e) {
      CHECK(e.kind() == FailureKind::permanent);
      CHECK_THAT(e.what(), Catch::Contains(naming));
    }
  };
  rejects(fs({{"delivery_schedule", {{"cron", "* * * * *"}, {"timezone", "Europe/Berlln"}}}}),
          "'delivery_schedule': 'Europe/Berlln' is not a time zone");
  rejects(fs({{"delivery_schedule", {{"cron", "*/15 6-25 * * *"}, {"timezone", "UTC"}}}}),
          "'delivery_schedule': the hour field '6-25'");
  rejects(fs({{"ack_schedule", {{"cron", "* * * *"}, {"timezone", "UTC"}}}}), "'ack_schedule'");
  rejects(fs({{"ack_schedule", "*/5 * * * *"}}), "'ack_schedule' must be an object");
  rejects(fs({{"delivery_schedule", {{"cron", "* * * * *"}}}}), "'delivery_schedule' must be");
  rejects(fs({{"delivery_schedule", {{"cron", "* * * * *"}, {"timezone", "UTC"}, {"x", 1}}}}),
          "'delivery_schedule' must be");
  rejects(fs({{"ack_schedule", {{"cron", "* * * * *"}, {"timezone", "UTC"}}},
              {"ack_poll_interval_s", 60}}),
          "'ack_schedule' and 'ack_poll_interval_s' exclude each other");
  rejects(fs({{"done_file", "yes"}}), "'done_file' must be true or false");
  rejects(fs({{"checksum_file", 1}}), "'checksum_file' must be true or false");
}

TEST_CASE("connection settings: max_sessions, and the endpoint a connection delivers to",
          "[domain]") {
  nlohmann::json fs = {{"mode", "filesystem"}, {"export_path", "/e/x"}, {"ack_path", "/a"}};
  CHECK_FALSE(parse_connection_settings(fs).max_sessions);
  fs["max_sessions"] = 1;
  CHECK(parse_connection_settings(fs).max_sessions == 1);
  for (const nlohmann::json& bad :
       {nlohmann::json(0), nlohmann::json(1001), nlohmann::json("2"), nlohmann::json(1.5)}) {
    INFO(bad.dump());
    fs["max_sessions"] = bad;
    try {
      parse_connection_settings(fs);
      FAIL("accepted");
    } catch (const Failure& e) {
      CHECK_THAT(e.what(), Catch::Contains("'max_sessions' must be an integer from 1 to 1000"));
    }
  }
  fs.erase("max_sessions");
  CHECK(delivery_endpoint(parse_connection_settings(fs)) == "file:///e/x");
  const nlohmann::json sftp = {
      {"mode", "sftp"},           {"host", "erp.example"}, {"port", 2222},      {"username", "u"},
      {"private_key_path", "/k"}, {"export_path", "/in"},  {"ack_path", "/out"}};
  CHECK(delivery_endpoint(parse_connection_settings(sftp)) == "sftp://erp.example:2222");
}
