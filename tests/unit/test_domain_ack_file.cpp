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

TEST_CASE("ack verdicts for every export state", "[ack]") {
  struct Row {
    AckKind kind;
    std::optional<std::string> status;
    AckVerdict verdict;
  };
  const Row rows[] = {
      {AckKind::ack, "SENT", AckVerdict::apply},
      {AckKind::error, "SENT", AckVerdict::apply},
      {AckKind::ack, "ACKED", AckVerdict::repeat},
      {AckKind::error, "FAILED", AckVerdict::repeat},
      {AckKind::error, "ACKED", AckVerdict::contradiction},
      {AckKind::ack, "FAILED", AckVerdict::contradiction},
      {AckKind::ack, "PENDING", AckVerdict::wait},
      {AckKind::error, "PENDING", AckVerdict::wait},
      {AckKind::ack, std::nullopt, AckVerdict::no_export},
      {AckKind::error, std::nullopt, AckVerdict::no_export},
  };
  for (const auto& row : rows) {
    INFO(row.status.value_or("none"));
    CHECK(to_string(decide_ack(row.kind, row.status)) == std::string(to_string(row.verdict)));
  }
}
