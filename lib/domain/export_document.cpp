// The builder (key order, nulls, exact line totals) and the serializer that
// writes stored addresses verbatim.
#include "domain/export_document.h"

#include <algorithm>
#include <string_view>

#include "domain/decimal.h"
#include "domain/export_contract.h"

namespace exportd {

namespace {

using Json = nlohmann::ordered_json;

Json text_or_null(const Text& value) {
  return value ? Json(*value) : Json(nullptr);
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view text) {
  size_t i = 0;
  const auto digits = [&] {
    const size_t from = i;
    while (i < text.size() && is_digit(text[i])) {
      ++i;
    }
    return i > from;
  };
  if (i < text.size() && text[i] == '-') {
    ++i;
  }
  if (i < text.size() && text[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (!digits()) {
      return false;
    }
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
      ++i;
    }
    if (!digits()) {
      return false;
    }
  }
  return i == text.size();
}

// nlohmann refuses numbers beyond a double's range (1E+400), so each number
// is checked against the grammar here and replaced by 0; nlohmann then
// checks everything else. Discarded when the text is not JSON.
Json structure_of(std::string_view text) {
  std::string zeroed;
  zeroed.reserve(text.size());
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      zeroed += c;
      if (c == '\\' && i + 1 < text.size()) {
        zeroed += text[++i];
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '-' || is_digit(c)) {
      const size_t end = std::min(text.find_first_not_of("0123456789+-.eE", i), text.size());
      if (!is_json_number(text.substr(i, end - i))) {
        return Json(Json::value_t::discarded);
      }
      zeroed += '0';
      i = end - 1;
    } else {
      in_string = c == '"';
      zeroed += c;
    }
  }
  return Json::parse(zeroed, nullptr, false);
}

// Addresses are jsonb in the database: copied as stored, any object, or null.
Json address_or_null(const Text& text, const std::string& key, ExportDocument& document) {
  if (!text) {
    return nullptr;
  }
  Json structure = structure_of(*text);
  if (structure.is_discarded()) {
    throw ContractViolation{"customer." + key, "must be valid JSON"}.failure();
  }
  document.stored_json["/customer/" + key] = *text;
  return structure;
}

Json customer_json(const std::optional<CustomerRow>& customer, ExportDocument& document) {
  if (!customer) {
    return nullptr;
  }
  Json c = Json::object();
  c["id"] = customer->id;
  c["erp_customer_number"] = text_or_null(customer->erp_customer_number);
  c["name"] = customer->name;
  c["email"] = text_or_null(customer->email);
  c["phone"] = text_or_null(customer->phone);
  c["billing_address"] =
      address_or_null(customer->billing_address_json, "billing_address", document);
  c["shipping_address"] =
      address_or_null(customer->shipping_address_json, "shipping_address", document);
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

// Writes what nlohmann's compact dump writes, except where a stored text
// takes the value's place.
void write_json(std::string& out, const Json& value, const Json::json_pointer& at,
                const std::map<std::string, std::string>& stored_json) {
  const std::string pointer = at.to_string();
  if (const auto stored = stored_json.find(pointer); stored != stored_json.end()) {
    out += stored->second;
    return;
  }
  const auto below = stored_json.lower_bound(pointer + "/");
  if (below == stored_json.end() || !below->first.starts_with(pointer + "/") ||
      !value.is_structured()) {
    // Invalid UTF-8 in a text column must not abort a delivery: replace it.
    out += value.dump(-1, ' ', false, Json::error_handler_t::replace);
    return;
  }
  out += value.is_object() ? '{' : '[';
  size_t index = 0;
  for (auto it = value.begin(); it != value.end(); ++it, ++index) {
    if (index > 0) {
      out += ',';
    }
    if (value.is_object()) {
      out += Json(it.key()).dump(-1, ' ', false, Json::error_handler_t::replace) + ':';
      write_json(out, it.value(), at / it.key(), stored_json);
    } else {
      write_json(out, it.value(), at / index, stored_json);
    }
  }
  out += value.is_object() ? '}' : ']';
}

}  // namespace

ExportDocument build_export_document(const ExportSource& source, const std::string& exporter) {
  std::vector<const LineRow*> lines;
  lines.reserve(source.lines.size());
  for (const auto& line : source.lines) {
    lines.push_back(&line);
  }
  std::sort(lines.begin(), lines.end(),
            [](const LineRow* a, const LineRow* b) { return a->line_no < b->line_no; });

  ExportDocument document;
  Json& doc = document.json;
  doc = Json::object();
  doc["export_version"] = "orderflow_export_json_v1";
  doc["org_slug"] = source.org_slug;
  doc["draft_order_id"] = source.draft_order_id;
  doc["approved_at"] = text_or_null(source.approved_at);
  doc["customer"] = customer_json(source.customer, document);
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
  return document;
}

std::string serialize_export_document(const ExportDocument& document) {
  std::string bytes;
  write_json(bytes, document.json, Json::json_pointer(), document.stored_json);
  return bytes + "\n";
}

}  // namespace exportd
