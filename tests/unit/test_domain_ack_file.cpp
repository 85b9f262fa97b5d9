// Ack and error files: names, contents and verdicts, table-driven.
#include <catch2/catch.hpp>

#include "domain/ack_file.h"

using namespace exportd;

TEST_CASE("ack names: answers are recognised, anything else is left alone", "[ack]") {
  struct Row {
    const char* name;
    bool answer;
    AckKind kind;
    const char* reference;
    bool by_draft_id;
  };
  const Row rows[] = {
      {"ack_sales_order_550e8400-e29b-41d4-a716-446655440000_20251226_100001_7c9e6679.json", true,
       AckKind::ack, "sales_order_550e8400-e29b-41d4-a716-446655440000_20251226_100001_7c9e6679",
       false},
      {"error_sales_order_x_20251226_100001_7c9e6679.json", true, AckKind::error,
       "sales_order_x_20251226_100001_7c9e6679", false},
      {"ack_550e8400-e29b-41d4-a716-446655440000.json", true, AckKind::ack,
       "550e8400-e29b-41d4-a716-446655440000", true},
      {"error_550E8400-E29B-41D4-A716-446655440000.json", true, AckKind::error,
       "550E8400-E29B-41D4-A716-446655440000", true},
      {"ack_.json", false, AckKind::ack, "", false},
      {"ack_x.json.tmp", false, AckKind::ack, "", false},
      {".ack_x.json", false, AckKind::ack, "", false},
      {"ack_x.JSON", false, AckKind::ack, "", false},
      {"nack_x.json", false, AckKind::ack, "", false},
      {"sales_order_x.json", false, AckKind::ack, "", false},
      {"error", false, AckKind::ack, "", false},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    const auto name = parse_ack_name(row.name);
    REQUIRE(name.has_value() == row.answer);
    if (name) {
      CHECK(name->kind == row.kind);
      CHECK(name->reference == row.reference);
      CHECK(name->by_draft_id == row.by_draft_id);
    }
  }
}

TEST_CASE("ack names: a name the database cannot store as text is named as such", "[ack]") {
  CHECK(ack_name_problem("ack_odd name \xc3\xbc\t'\".json").empty());
  CHECK(ack_name_problem("ack_\xff\xfe.json") == "the file name is not valid UTF-8");
  CHECK(ack_name_problem("ack_\xc3.json") == "the file name is not valid UTF-8");
}

TEST_CASE("ack contents: every rule of the spec", "[ack]") {
  struct Row {
    AckKind named;
    std::string bytes;
    bool valid;
    const char* problem;
  };
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  const Row rows[] = {
      {AckKind::ack,
       R"({"status":"ACKED","erp_order_id":"SO-1","processed_at":"2025-12-26T10:01:00Z"})", true,
       ""},
      {AckKind::ack, R"({"status":"ACKED","erp_order_id":"SO-1","extra":{"x":1}})", true, ""},
      {AckKind::error, R"({"status":"FAILED","error_code":"ERP_VALIDATION","message":"Unknown"})",
       true, ""},
      {AckKind::error, R"({"status":"FAILED","error_code":"E"})", true, ""},
      {AckKind::ack, R"({"status":"ACKED"})", false, "'erp_order_id' must be a non-empty string"},
      {AckKind::ack, R"({"status":"ACKED","erp_order_id":""})", false,
       "'erp_order_id' must be a non-empty string"},
      {AckKind::ack, R"({"status":"ACKED","erp_order_id":42})", false,
       "'erp_order_id' must be a non-empty string"},
      {AckKind::error, R"({"status":"FAILED","message":"no code"})", false,
       "'error_code' must be a non-empty string"},
      {AckKind::error, R"({"status":"FAILED","error_code":"E","message":7})", false,
       "'message' must be a string"},
      {AckKind::ack, R"({"status":"FAILED","error_code":"E"})", false,
       "'status' FAILED contradicts the file name's prefix"},
      {AckKind::error, R"({"status":"ACKED","erp_order_id":"SO-1"})", false,
       "'status' ACKED contradicts the file name's prefix"},
      {AckKind::ack, R"({"status":"DONE"})", false, "'status' must be ACKED or FAILED, got 'DONE'"},
      {AckKind::ack, R"({"erp_order_id":"SO-1"})", false, "'status' is missing"},
      {AckKind::ack, R"({"status":"ACKED","erp_order_id":"SO-1","processed_at":1})", false,
       "'processed_at' must be a string"},
      {AckKind::ack, R"(["ACKED"])", false, "not a JSON object"},
      {AckKind::ack, R"({"status":"ACKED","erp_order_id":"SO-1")", false, "not valid JSON"},
      {AckKind::ack, "", false, "not valid JSON"},
      {AckKind::ack, deep, false, "nested deeper than 32 levels"},
      {AckKind::ack, R"({"status":"ACKED","erp_order_id":"[[[[{{{{"})", true, ""},
  };
  for (const auto& row : rows) {
    INFO(row.bytes);
    const auto parsed = parse_ack_content(row.named, row.bytes);
    CHECK(parsed.content.has_value() == row.valid);
    CHECK(parsed.problem == row.problem);
  }
  const auto error = parse_ack_content(AckKind::error, R"({"status":"FAILED","error_code":"E"})");
  CHECK(error.content->error == nlohmann::json{{"status", "FAILED"}, {"error_code", "E"}});
  CHECK(parse_ack_content(AckKind::ack, rows[0].bytes).content->erp_order_id == "SO-1");
}

TEST_CASE("ack contents: text the database cannot store is invalid", "[ack]") {
  struct Row {
    AckKind named;
    std::string bytes;
    const char* problem;
  };
  const char* kNul = "holds a NUL character (\\u0000), which the database cannot store";
  const Row rows[] = {
      {AckKind::ack, R"({"status":"ACKED","erp_order_id":"SO\u00001"})", "'erp_order_id' "},
      {AckKind::error, R"({"status":"FAILED","error_code":"E\u0000"})", "'error_code' "},
      {AckKind::error, R"({"status":"FAILED","error_code":"E","message":"a\u0000b"})",
       "'message' "},
      {AckKind::error, R"({"status":"FAILED","error_code":"E","processed_at":"\u0000"})",
       "'processed_at' "},
      {AckKind::error, R"({"status":"FAILED","error_code":"E","details":{"x":["ok","\u0000"]}})",
       "'details' "},
      {AckKind::error, R"({"status":"FAILED","error_code":"E","details":{"k\u0000":1}})",
       "'details' "},
      {AckKind::error, R"({"status":"FAILED","error_code":"E","k\u0000ey":1})", "'k\\u0000ey' "},
  };
  for (const auto& row : rows) {
    INFO(row.bytes);
    const auto parsed = parse_ack_content(row.named, row.bytes);
    CHECK_FALSE(parsed.content.has_value());
    CHECK(parsed.problem == std::string(row.problem) + kNul);
  }
  // Not stored: a NUL in a key an ack file's reader ignores does no harm.
  CHECK(
      parse_ack_content(AckKind::ack, R"({"status":"ACKED","erp_order_id":"S","x\u0000":"\u0000"})")
          .content.has_value());
  // A reason quotes what it names escaped, so the reason itself can be stored.
  CHECK(parse_ack_content(AckKind::ack, R"({"status":"ACK\u0000ED"})").problem ==
        R"('status' must be ACKED or FAILED, got 'ACK\u0000ED')");
}

TEST_CASE("ack contents: hostile bytes are refused with a reason, never thrown", "[ack]") {
  struct Row {
    AckKind named;
    std::string bytes;
    bool valid;
  };
  const Row rows[] = {
      {AckKind::ack, "{\"status\":\"ACKED\",\"erp_order_id\":\"SO\xff\"}", false},
      {AckKind::ack, "{\"status\":\"ACKED\",\"erp_order_id\":\"SO\xc3\"}", false},
      {AckKind::ack, "{\"status\":\"ACKED\",\"erp_order_id\":\"\xed\xa0\x80\"}", false},
      {AckKind::ack, R"({"status":"ACKED","erp_order_id":"\ud800"})", false},
      {AckKind::ack, "\xef\xbb\xbf{\"status\":\"ACKED\",\"erp_order_id\":\"SO-1\"}", true},
      {AckKind::error, R"({"status":"FAILED","error_code":"E","n":1e400})", false},
      {AckKind::error, R"({"status":"FAILED","error_code":"E","n":-1e99999999999})", false},
      {AckKind::error, R"({"status":"FAILED","error_code":"E","n":123456789012345678901234567890})",
       true},
      {AckKind::error, R"({"status":"FAILED","error_code":"E","n":1e-400})", true},
      {AckKind::ack,
       R"({"status":"ACKED","erp_order_id":"SO-1","x":)" + std::string(32, '[') +
           std::string(32, ']') + "}",
       false},
      {AckKind::ack,
       R"({"status":"ACKED","erp_order_id":"SO-1","x":)" + std::string(31, '[') +
           std::string(31, ']') + "}",
       true},
      {AckKind::ack, std::string(100000, '{'), false},
  };
  for (const auto& row : rows) {
    INFO(row.bytes.substr(0, 80));
    AckParse parsed;
    REQUIRE_NOTHROW(parsed = parse_ack_content(row.named, row.bytes));
    CHECK(parsed.content.has_value() == row.valid);
    CHECK(parsed.problem.empty() == row.valid);
    if (parsed.content) {
      // What is stored dumps as JSON without throwing.
      CHECK_NOTHROW(parsed.content->error.dump());
    }
  }
}

TEST_CASE("ack verdicts for every export state", "[ack]") {
  struct Row {
    AckKind kind;
    std::optional<ExportStatus> status;
    AckVerdict verdict;
  };
  const Row rows[] = {
      {AckKind::ack, ExportStatus::sent, AckVerdict::apply},
      {AckKind::error, ExportStatus::sent, AckVerdict::apply},
      {AckKind::ack, ExportStatus::acked, AckVerdict::repeat},
      {AckKind::error, ExportStatus::failed, AckVerdict::repeat},
      {AckKind::error, ExportStatus::acked, AckVerdict::contradiction},
      {AckKind::ack, ExportStatus::failed, AckVerdict::contradiction},
      {AckKind::ack, ExportStatus::pending, AckVerdict::wait},
      {AckKind::error, ExportStatus::pending, AckVerdict::wait},
      {AckKind::ack, std::nullopt, AckVerdict::no_export},
      {AckKind::error, std::nullopt, AckVerdict::no_export},
  };
  for (const auto& row : rows) {
    INFO((row.status ? to_string(*row.status) : "none"));
    CHECK(to_string(decide_ack(row.kind, row.status)) == std::string(to_string(row.verdict)));
  }
  // Failed by its ack deadline, the export was never answered: whatever the
  // ERP says now contradicts what the daemon concluded.
  CHECK(decide_ack(AckKind::ack, ExportStatus::failed, true) == AckVerdict::contradiction);
  CHECK(decide_ack(AckKind::error, ExportStatus::failed, true) == AckVerdict::contradiction);
}
