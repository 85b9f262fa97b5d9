#include "domain/export_document.h"

#include <algorithm>

#include "domain/decimal.h"

namespace exportd {

namespace {

using Json = nlohmann::ordered_json;

Json text_or_null(const Text& value) {
  return value ? Json(*value) : Json(nullptr);
}

// Addresses are jsonb in the database: copied as stored, any object, or null.
Json address_or_null(const Text& json_text) {
  if (!json_text) {
    return nullptr;
  }
  return Json::parse(*json_text);
}

Json customer_json(const std::optional<CustomerRow>& customer) {
  if (!customer) {
    return nullptr;
  }
  Json c = Json::object();
  c["id"] = customer->id;
  c["erp_customer_number"] = text_or_null(customer->erp_customer_number);
  c["name"] = customer->name;
  c["email"] = text_or_null(customer->email);
  c["phone"] = text_or_null(customer->phone);
  c["billing_address"] = address_or_null(customer->billing_address_json);
  c["shipping_address"] = address_or_null(customer->shipping_address_json);
  return c;
}

Json line_json(const LineRow& line) {
  Json l = Json::object();
  l["line_no"] = line.line_no;
  l["internal_sku"] = text_or_null(line.internal_sku);
  l["customer_sku"] = text_or_null(line.customer_sku);
  l["description"] = text_or_null(line.description);
  l["qty"] = line.qty;
  l["uom"] = text_or_null(line.uom);
  l["unit_price"] = text_or_null(line.unit_price);
  l["line_total"] =
      line.unit_price ? Json(multiply_decimal(line.qty, *line.unit_price)) : Json(nullptr);
  return l;
}

}  // namespace

nlohmann::ordered_json build_export_document(const ExportSource& source,
                                             const std::string& exporter) {
  std::vector<const LineRow*> lines;
  lines.reserve(source.lines.size());
  for (const auto& line : source.lines) {
    lines.push_back(&line);
  }
  std::sort(lines.begin(), lines.end(),
            [](const LineRow* a, const LineRow* b) { return a->line_no < b->line_no; });

  Json doc = Json::object();
  doc["export_version"] = "orderflow_export_json_v1";
  doc["org_slug"] = source.org_slug;
  doc["draft_order_id"] = source.draft_order_id;
  doc["approved_at"] = text_or_null(source.approved_at);
  doc["customer"] = customer_json(source.customer);
  Json header = Json::object();
  header["external_order_number"] = text_or_null(source.external_order_number);
  header["order_date"] = text_or_null(source.order_date);
  header["requested_delivery_date"] = text_or_null(source.requested_delivery_date);
  header["currency"] = text_or_null(source.currency);
  header["notes"] = text_or_null(source.notes);
  doc["header"] = std::move(header);
  Json line_array = Json::array();
  for (const auto* line : lines) {
    line_array.push_back(line_json(*line));
  }
  doc["lines"] = std::move(line_array);
  Json meta = Json::object();
  meta["export_id"] = source.export_id;
  meta["created_at"] = source.created_at;
  meta["exporter"] = exporter;
  meta["line_count"] = lines.size();
  doc["meta"] = std::move(meta);
  return doc;
}

std::string serialize_export_document(const nlohmann::ordered_json& document) {
  // Invalid UTF-8 in a text column must not abort a delivery: replace it.
  return document.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace exportd
