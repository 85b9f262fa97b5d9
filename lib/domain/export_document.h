// The orderflow_export_json_v1 document (see docs/erp-integration.md,
// "The export file"): the rows it is built from, and the builder that fixes
// key order, nulls and exact decimals.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace exportd {

using Text = std::optional<std::string>;

struct CustomerRow {
  std::string id;
  Text erp_customer_number;
  std::string name;
  Text email;
  Text phone;
  Text billing_address_json;  // jsonb text as stored, or null
  Text shipping_address_json;
};

struct LineRow {
  std::int64_t line_no = 0;
  Text internal_sku;
  Text customer_sku;
  Text description;
  std::string qty;  // numeric text
  Text uom;
  Text unit_price;  // numeric text
};

// Timestamps arrive already formatted as RFC 3339 UTC with whole seconds,
// dates as YYYY-MM-DD: the database formats them, we never reinterpret them.
struct ExportSource {
  std::string export_id;
  std::string org_slug;
  std::string draft_order_id;
  Text approved_at;
  std::optional<CustomerRow> customer;
  Text external_order_number;
  Text order_date;
  Text requested_delivery_date;
  Text currency;
  Text notes;
  std::vector<LineRow> lines;  // any order; the builder sorts by line_no
  std::string created_at;
};

// A built document. Addresses are jsonb copied as stored, and a number in them
// may not survive a binary double (12345678901234567890123, 19.90, 1E+400), so
// their text as stored is kept beside the JSON and written in its place. In
// `json` an address shows its structure only: each of its numbers reads 0.
struct ExportDocument {
  nlohmann::ordered_json json;
  std::map<std::string, std::string> stored_json;  // JSON pointer -> JSON text as stored
};

// The exporter string written into meta.exporter, e.g. "orderflow-exportd 0.1.0".
// Throws ContractViolation::failure() when an address is not JSON text.
ExportDocument build_export_document(const ExportSource& source, const std::string& exporter);

// The exact bytes delivered: compact UTF-8 JSON followed by a newline, with
// each stored JSON text written verbatim at its pointer.
std::string serialize_export_document(const ExportDocument& document);

}  // namespace exportd
