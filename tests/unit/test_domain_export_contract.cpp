// The export contract check: every rule of the published schema, named by
// field and rule, and the same verdicts as python3-jsonschema with the schema
// file (docs/orderflow_export_json_v1.schema.json).
#include <catch2/catch.hpp>
#include <functional>

#include "domain/export_contract.h"
#include "domain/export_document.h"
#include "domain/failure.h"
#include "tests/support/export_fixtures.h"
#include "tests/support/json_schema.h"

using namespace exportd;

namespace {

using Json = nlohmann::ordered_json;

ExportDocument built(const std::function<void(ExportSource&)>& change) {
  auto source = testing::complete_export_source();
  change(source);
  return build_export_document(source, "orderflow-exportd 0.1.0");
}

ExportDocument edited(const std::function<void(Json&)>& change) {
  auto document =
      build_export_document(testing::complete_export_source(), "orderflow-exportd 0.1.0");
  change(document.json);
  return document;
}

struct ContractCase {
  std::string name;
  ExportDocument document;
  std::string field;  // the violation expected; an empty rule: none
  std::string rule;
};

// Each rule of the schema broken once, and documents that keep all of them.
std::vector<ContractCase> contract_cases() {
  const std::string uuid =
      "must match ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";
  const std::string timestamp =
      "must match ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$";
  const std::string date = "must match ^[0-9]{4}-[0-9]{2}-[0-9]{2}$";
  const std::string decimal = R"(must match ^-?[0-9]+(\.[0-9]+)?$)";
  const std::string slug = "must match ^[a-z0-9][a-z0-9-]{0,62}$";
  const std::string currency = "must match ^[A-Z]{3}$";
  const std::string string = "must be of type string";
  const std::string text = "must be of type string or null";
  const std::string address = "must be of type object or null";
  const std::string integer = "must be of type integer";
  return {
      {"as built", edited([](Json&) {}), "", ""},
      {"no customer", built([](ExportSource& s) { s.customer.reset(); }), "", ""},
      {"no lines", built([](ExportSource& s) { s.lines.clear(); }), "", ""},
      {"nulls wherever allowed", built([](ExportSource& s) {
         s.approved_at.reset();
         s.customer =
             CustomerRow{"0b6f1c7e-2f1d-4d8e-9a51-5b7f0c3b9a10", {}, "ACME", {}, {}, {}, {}};
         s.external_order_number.reset();
         s.order_date.reset();
         s.requested_delivery_date.reset();
         s.currency.reset();
         s.notes.reset();
         s.lines = {LineRow{1, {}, {}, {}, "1.0000", {}, {}}};
       }),
       "", ""},
      {"addresses with huge numbers and nesting", built([](ExportSource& s) {
         s.customer->billing_address_json = R"({"n": 1E+400, "a": [{"b": [19.90, -0.0]}]})";
         s.customer->shipping_address_json = "{}";
       }),
       "", ""},
      {"integral numbers written with a fraction", edited([](Json& j) {
         j["lines"][0]["line_no"] = 1.0;
         j["meta"]["line_count"] = 2.0;
       }),
       "", ""},
      {"longest slug, negative and integral decimals", edited([](Json& j) {
         j["org_slug"] = std::string(63, 'a');
         j["lines"][0]["qty"] = "-1.5000";
         j["lines"][0]["line_total"] = "0";
       }),
       "", ""},

      {"document not an object", edited([](Json& j) { j = Json::array(); }), "",
       "must be of type object"},
      {"unknown key", edited([](Json& j) { j["extra"] = 1; }), "extra", "is not allowed"},
      {"missing key", edited([](Json& j) { j.erase("meta"); }), "meta", "is required"},
      {"other version", edited([](Json& j) { j["export_version"] = "orderflow_export_json_v2"; }),
       "export_version", R"(must equal "orderflow_export_json_v1")"},
      {"slug in upper case", built([](ExportSource& s) { s.org_slug = "Acme"; }), "org_slug", slug},
      {"slug starting with a dash", built([](ExportSource& s) { s.org_slug = "-acme"; }),
       "org_slug", slug},
      {"slug too long", built([](ExportSource& s) { s.org_slug = std::string(64, 'a'); }),
       "org_slug", slug},
      {"empty slug", built([](ExportSource& s) { s.org_slug = ""; }), "org_slug", slug},
      {"slug a number", edited([](Json& j) { j["org_slug"] = 5; }), "org_slug", string},
      {"draft id in upper case",
       built([](ExportSource& s) { s.draft_order_id = "550E8400-E29B-41D4-A716-446655440000"; }),
       "draft_order_id", uuid},
      {"draft id null", edited([](Json& j) { j["draft_order_id"] = nullptr; }), "draft_order_id",
       string},
      {"approval with a fraction",
       built([](ExportSource& s) { s.approved_at = "2025-12-26T10:00:00.5Z"; }), "approved_at",
       timestamp},
      {"approval with an offset",
       built([](ExportSource& s) { s.approved_at = "2025-12-26T10:00:00+00:00"; }), "approved_at",
       timestamp},
      {"approval a number", edited([](Json& j) { j["approved_at"] = 1766743200; }), "approved_at",
       "must be of type string or null"},

      {"customer a string", edited([](Json& j) { j["customer"] = "ACME"; }), "customer",
       "must be of type object or null"},
      {"customer with an unknown key", edited([](Json& j) { j["customer"]["vat_id"] = "DE1"; }),
       "customer.vat_id", "is not allowed"},
      {"customer without phone", edited([](Json& j) { j["customer"].erase("phone"); }),
       "customer.phone", "is required"},
      {"customer id not a uuid", built([](ExportSource& s) { s.customer->id = "42"; }),
       "customer.id", uuid},
      {"customer name null", edited([](Json& j) { j["customer"]["name"] = nullptr; }),
       "customer.name", string},
      {"customer number a number",
       edited([](Json& j) { j["customer"]["erp_customer_number"] = 4711; }),
       "customer.erp_customer_number", text},
      {"email a number", edited([](Json& j) { j["customer"]["email"] = 5; }), "customer.email",
       text},
      {"phone false", edited([](Json& j) { j["customer"]["phone"] = false; }), "customer.phone",
       text},
      {"billing address a string",
       built([](ExportSource& s) { s.customer->billing_address_json = R"("Hauptstr. 1")"; }),
       "customer.billing_address", address},
      {"billing address a number",
       built([](ExportSource& s) { s.customer->billing_address_json = "19.90"; }),
       "customer.billing_address", address},
      {"shipping address an array",
       built([](ExportSource& s) { s.customer->shipping_address_json = R"(["Hauptstr. 1"])"; }),
       "customer.shipping_address", address},

      {"header null", edited([](Json& j) { j["header"] = nullptr; }), "header",
       "must be of type object"},
      {"header with an unknown key", edited([](Json& j) { j["header"]["incoterm"] = "EXW"; }),
       "header.incoterm", "is not allowed"},
      {"header without notes", edited([](Json& j) { j["header"].erase("notes"); }), "header.notes",
       "is required"},
      {"order number a number", edited([](Json& j) { j["header"]["external_order_number"] = 42; }),
       "header.external_order_number", text},
      {"order date with one day digit", built([](ExportSource& s) { s.order_date = "2025-12-2"; }),
       "header.order_date", date},
      {"order date without dashes", built([](ExportSource& s) { s.order_date = "20251220"; }),
       "header.order_date", date},
      {"order date a number", edited([](Json& j) { j["header"]["order_date"] = 20251220; }),
       "header.order_date", "must be of type string or null"},
      {"delivery date a timestamp",
       built([](ExportSource& s) { s.requested_delivery_date = "2025-12-20T00:00:00Z"; }),
       "header.requested_delivery_date", date},
      {"currency in lower case", built([](ExportSource& s) { s.currency = "eur"; }),
       "header.currency", currency},
      {"currency of four letters", built([](ExportSource& s) { s.currency = "EURO"; }),
       "header.currency", currency},
      {"currency of two letters", built([](ExportSource& s) { s.currency = "EU"; }),
       "header.currency", currency},
      {"currency with a non-ASCII letter", built([](ExportSource& s) { s.currency = "ÉUR"; }),
       "header.currency", currency},
      {"currency a number", edited([](Json& j) { j["header"]["currency"] = 978; }),
       "header.currency", "must be of type string or null"},
      {"notes false", edited([](Json& j) { j["header"]["notes"] = false; }), "header.notes", text},

      {"lines an object", edited([](Json& j) { j["lines"] = Json::object(); }), "lines",
       "must be of type array"},
      {"lines null", edited([](Json& j) { j["lines"] = nullptr; }), "lines",
       "must be of type array"},
      {"line not an object", edited([](Json& j) { j["lines"][0] = 1; }), "lines[0]",
       "must be of type object"},
      {"line with an unknown key", edited([](Json& j) { j["lines"][1]["discount"] = "0"; }),
       "lines[1].discount", "is not allowed"},
      {"line without qty", edited([](Json& j) { j["lines"][0].erase("qty"); }), "lines[0].qty",
       "is required"},
      {"line number 0", built([](ExportSource& s) { s.lines[1].line_no = 0; }), "lines[0].line_no",
       "must be at least 1"},
      {"line number negative", built([](ExportSource& s) { s.lines[0].line_no = -1; }),
       "lines[0].line_no", "must be at least 1"},
      {"line number a string", edited([](Json& j) { j["lines"][0]["line_no"] = "1"; }),
       "lines[0].line_no", integer},
      {"line number with a fraction", edited([](Json& j) { j["lines"][0]["line_no"] = 1.5; }),
       "lines[0].line_no", integer},
      {"line number true", edited([](Json& j) { j["lines"][0]["line_no"] = true; }),
       "lines[0].line_no", integer},
      {"qty without fraction digits", built([](ExportSource& s) { s.lines[0].qty = "1."; }),
       "lines[1].qty", decimal},
      {"qty with an exponent", built([](ExportSource& s) { s.lines[0].qty = "1e5"; }),
       "lines[1].qty", decimal},
      {"qty a number", edited([](Json& j) { j["lines"][0]["qty"] = 10; }), "lines[0].qty", string},
      {"qty null", edited([](Json& j) { j["lines"][0]["qty"] = nullptr; }), "lines[0].qty", string},
      {"unit price without integer digits",
       edited([](Json& j) { j["lines"][0]["unit_price"] = ".5"; }), "lines[0].unit_price", decimal},
      {"unit price a number", edited([](Json& j) { j["lines"][0]["unit_price"] = 1.23; }),
       "lines[0].unit_price", "must be of type string or null"},
      {"line total with a comma", edited([](Json& j) { j["lines"][0]["line_total"] = "12,30"; }),
       "lines[0].line_total", decimal},
      {"sku a number", edited([](Json& j) { j["lines"][0]["internal_sku"] = 100; }),
       "lines[0].internal_sku", text},
      {"customer sku an array", edited([](Json& j) { j["lines"][0]["customer_sku"] = {1}; }),
       "lines[0].customer_sku", text},
      {"description an object",
       edited([](Json& j) { j["lines"][0]["description"] = Json::object(); }),
       "lines[0].description", text},
      {"uom a number", edited([](Json& j) { j["lines"][0]["uom"] = 1; }), "lines[0].uom", text},

      {"meta with an unknown key", edited([](Json& j) { j["meta"]["host"] = "x"; }), "meta.host",
       "is not allowed"},
      {"meta without line count", edited([](Json& j) { j["meta"].erase("line_count"); }),
       "meta.line_count", "is required"},
      {"meta a string", edited([](Json& j) { j["meta"] = "x"; }), "meta", "must be of type object"},
      {"export id not a uuid", built([](ExportSource& s) { s.export_id = "7c9e6679"; }),
       "meta.export_id", uuid},
      {"creation a date", built([](ExportSource& s) { s.created_at = "2025-12-26"; }),
       "meta.created_at", timestamp},
      {"creation null", edited([](Json& j) { j["meta"]["created_at"] = nullptr; }),
       "meta.created_at", string},
      {"exporter null", edited([](Json& j) { j["meta"]["exporter"] = nullptr; }), "meta.exporter",
       string},
      {"line count negative", edited([](Json& j) { j["meta"]["line_count"] = -1; }),
       "meta.line_count", "must be at least 0"},
      {"line count a string", edited([](Json& j) { j["meta"]["line_count"] = "2"; }),
       "meta.line_count", integer},
      {"line count with a fraction", edited([](Json& j) { j["meta"]["line_count"] = 2.5; }),
       "meta.line_count", integer},
  };
}

}  // namespace

TEST_CASE("the contract check names the field and the rule a document breaks", "[domain]") {
  for (const auto& c : contract_cases()) {
    INFO(c.name);
    const auto violation = check_export_document(c.document.json);
    if (c.rule.empty()) {
      CHECK_FALSE(violation);
      continue;
    }
    REQUIRE(violation);
    CHECK(violation->field == c.field);
    CHECK(violation->rule == c.rule);
  }
}

TEST_CASE("the contract check and python3-jsonschema judge every document alike", "[domain]") {
  const auto cases = contract_cases();
  std::vector<std::string> bytes;
  for (const auto& c : cases) {
    bytes.push_back(serialize_export_document(c.document));
  }
  const auto accepted = testing::schema_accepts(testing::published_schema(), bytes);
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO(cases[i].name << ": " << bytes[i]);
    CHECK(accepted[i] == !check_export_document(cases[i].document.json));
  }
}

TEST_CASE("patterns end at the end of the text, not before a final newline", "[domain]") {
  // Python's re lets "$" match before a final newline, so python3-jsonschema
  // accepts these; the schema's ECMA-262 patterns do not.
  const auto currency =
      check_export_document(built([](ExportSource& s) { s.currency = "EUR\n"; }).json);
  REQUIRE(currency);
  CHECK(currency->field == "header.currency");
  const auto qty =
      check_export_document(built([](ExportSource& s) { s.lines[0].qty = "1\n"; }).json);
  REQUIRE(qty);
  CHECK(qty->field == "lines[1].qty");
}

TEST_CASE("a contract violation is a permanent failure that carries field and rule", "[domain]") {
  const auto failure = ContractViolation{"header.currency", "must match ^[A-Z]{3}$"}.failure();
  CHECK(failure.kind() == FailureKind::permanent);
  CHECK(std::string(failure.what()) ==
        "cannot deliver a document that breaks the export contract: 'header.currency' must match "
        "^[A-Z]{3}$");
  CHECK(failure.details() ==
        nlohmann::json{{"field", "header.currency"}, {"rule", "must match ^[A-Z]{3}$"}});
}
