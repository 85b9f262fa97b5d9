// The export document: exact decimals, key order, nulls, escaping, stored
// addresses, validated against the published JSON Schema
// (docs/orderflow_export_json_v1.schema.json).
#include <catch2/catch.hpp>

#include "domain/decimal.h"
#include "domain/export_document.h"
#include "domain/failure.h"
#include "tests/support/export_fixtures.h"
#include "tests/support/json_schema.h"

using namespace exportd;

namespace {

std::vector<std::string> keys_of(const nlohmann::ordered_json& object) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : object.items()) {
    keys.push_back(key);
  }
  return keys;
}

// python3-jsonschema's verdict on the exact bytes.
bool schema_accepts(const std::string& bytes) {
  return testing::schema_accepts(testing::published_schema(), {bytes}).at(0);
}

}  // namespace

TEST_CASE("decimal text is recognised exactly", "[domain]") {
  CHECK(is_decimal_text("0"));
  CHECK(is_decimal_text("-12.3400"));
  CHECK_FALSE(is_decimal_text(""));
  CHECK_FALSE(is_decimal_text("1."));
  CHECK_FALSE(is_decimal_text(".5"));
  CHECK_FALSE(is_decimal_text("1e5"));
  CHECK_FALSE(is_decimal_text("NaN"));
  CHECK_FALSE(is_decimal_text("--1"));
}

TEST_CASE("multiply_decimal is exact and keeps the stored scale", "[domain]") {
  CHECK(multiply_decimal("10.0000", "1.2300") == "12.3000");
  CHECK(multiply_decimal("0.3333", "3.0000") == "0.9999");
  CHECK(multiply_decimal("0.0001", "0.0001") == "0.00000001");
  CHECK(multiply_decimal("-2.5000", "4.0000") == "-10.0000");
  CHECK(multiply_decimal("-2.5000", "-4.0000") == "10.0000");
  CHECK(multiply_decimal("-0.0000", "5.0000") == "0.0000");
  CHECK(multiply_decimal("3", "4") == "12");
  // numeric(18,4) extremes, far beyond a double's 15-16 significant digits.
  CHECK(multiply_decimal("99999999999999.9999", "99999999999999.9999") ==
        "9999999999999999980000000000.00000001");
  CHECK_THROWS_AS(multiply_decimal("1,5", "2"), std::invalid_argument);
}

TEST_CASE("the document has every key, in the spec's order", "[domain]") {
  const auto doc =
      build_export_document(testing::complete_export_source(), "orderflow-exportd 0.1.0").json;
  CHECK(keys_of(doc) == std::vector<std::string>{"export_version", "org_slug", "draft_order_id",
                                                 "approved_at", "customer", "header", "lines",
                                                 "meta"});
  CHECK(keys_of(doc["customer"]) == std::vector<std::string>{"id", "erp_customer_number", "name",
                                                             "email", "phone", "billing_address",
                                                             "shipping_address"});
  CHECK(keys_of(doc["header"]) == std::vector<std::string>{"external_order_number", "order_date",
                                                           "requested_delivery_date", "currency",
                                                           "notes"});
  CHECK(keys_of(doc["lines"][0]) == std::vector<std::string>{"line_no", "internal_sku",
                                                             "customer_sku", "description", "qty",
                                                             "uom", "unit_price", "line_total"});
  CHECK(keys_of(doc["meta"]) ==
        std::vector<std::string>{"export_id", "created_at", "exporter", "line_count"});
  CHECK(doc["export_version"] == "orderflow_export_json_v1");
  CHECK(doc["customer"]["phone"].is_null());
  CHECK(doc["customer"]["billing_address"]["city"] == "Berlin");
  CHECK(doc["customer"]["shipping_address"].is_null());
  CHECK(doc["header"]["requested_delivery_date"].is_null());
  CHECK(doc["header"]["notes"].is_null());
  CHECK(doc["meta"]["line_count"] == 2);
  CHECK(doc["meta"]["exporter"] == "orderflow-exportd 0.1.0");
}

TEST_CASE("lines are ordered by line_no with exact totals", "[domain]") {
  const auto doc = build_export_document(testing::complete_export_source(), "x").json;
  CHECK(doc["lines"][0]["line_no"] == 1);
  CHECK(doc["lines"][0]["qty"] == "10.0000");
  CHECK(doc["lines"][0]["unit_price"] == "1.2300");
  CHECK(doc["lines"][0]["line_total"] == "12.3000");
  CHECK(doc["lines"][1]["line_no"] == 2);
  CHECK(doc["lines"][1]["unit_price"].is_null());
  CHECK(doc["lines"][1]["line_total"].is_null());
}

TEST_CASE("a draft without customer or lines is still a complete document", "[domain]") {
  auto source = testing::complete_export_source();
  source.customer.reset();
  source.lines.clear();
  source.approved_at.reset();
  const auto doc = build_export_document(source, "x");
  CHECK(doc.json["customer"].is_null());
  CHECK(doc.json["approved_at"].is_null());
  CHECK(doc.json["lines"] == nlohmann::ordered_json::array());
  CHECK(doc.json["meta"]["line_count"] == 0);
  CHECK(schema_accepts(serialize_export_document(doc)));
}

TEST_CASE("text survives quotes, backslashes, control characters and non-ASCII", "[domain]") {
  auto source = testing::complete_export_source();
  const std::string nasty = "Quote \" back\\slash \n tab\t bell\x07 Grüße 東京 😀";
  source.notes = nasty;
  source.lines[1].description = nasty;
  const std::string bytes = serialize_export_document(build_export_document(source, "x"));
  CHECK(bytes.find('\x07') == std::string::npos);          // control characters are escaped
  CHECK(bytes.find("Grüße 東京 😀") != std::string::npos);  // UTF-8 kept as is, no BOM
  CHECK(bytes.substr(0, 1) == "{");
  CHECK(bytes.back() == '\n');
  const auto parsed = nlohmann::json::parse(bytes);
  CHECK(parsed["header"]["notes"] == nasty);
  CHECK(schema_accepts(bytes));
}

TEST_CASE("the document validates against the published schema; a broken one does not",
          "[domain]") {
  auto doc = build_export_document(testing::complete_export_source(), "orderflow-exportd 0.1.0");
  CHECK(schema_accepts(serialize_export_document(doc)));
  doc.json["unexpected"] = 1;
  CHECK_FALSE(schema_accepts(serialize_export_document(doc)));
}

TEST_CASE("addresses are written as stored with every digit and their nesting", "[domain]") {
  const std::string billing =
      R"({"n": 12345678901234567890123, "price": 19.90, "tiny": -0.000000000000000000001,)"
      R"( "huge": 1E+400, "nested": {"a": [1.10, {"b": 2.50e-3}], "empty": {}}})";
  const std::string shipping = R"({"street": "Hauptstr. 1", "zip": 10115})";
  auto source = testing::complete_export_source();
  source.customer->billing_address_json = billing;
  source.customer->shipping_address_json = shipping;
  const auto doc = build_export_document(source, "x");
  const std::string bytes = serialize_export_document(doc);
  CHECK_THAT(bytes, Catch::Contains(R"("billing_address":)" + billing + ","));
  CHECK_THAT(bytes, Catch::Contains(R"("shipping_address":)" + shipping + "}"));
  CHECK(schema_accepts(bytes));
  // The structure is there for the contract check; its numbers are not.
  CHECK(doc.json["customer"]["billing_address"]["nested"]["a"][1]["b"] == 0);
  CHECK(doc.json["customer"]["shipping_address"]["street"] == "Hauptstr. 1");
  // Everything around the addresses is what nlohmann's compact dump writes.
  auto without_addresses = doc;
  without_addresses.stored_json.clear();
  without_addresses.json["customer"]["billing_address"] = nullptr;
  without_addresses.json["customer"]["shipping_address"] = nullptr;
  CHECK(serialize_export_document(without_addresses) ==
        without_addresses.json.dump(-1, ' ', false) + "\n");
}

TEST_CASE("an address that is not JSON text cannot be built into a document", "[domain]") {
  for (const std::string text : {"{", R"({"a": 01})", R"({"a": 1.})", R"({"a": -})", R"({"a": 1e})",
                                 R"({"a": .5})", R"({"a": 1}x)", "\"\xff\""}) {
    INFO(text);
    auto source = testing::complete_export_source();
    source.customer->billing_address_json = text;
    try {
      build_export_document(source, "x");
      FAIL("built");
    } catch (const Failure& e) {
      CHECK(e.kind() == FailureKind::permanent);
      CHECK(e.details() ==
            nlohmann::json{{"field", "customer.billing_address"}, {"rule", "must be valid JSON"}});
    }
  }
}
