// The schema's rules written out once, in the schema's own shape, so the two
// read side by side. Each pattern is matched by hand (no regex engine on
// untrusted text); the test that runs python3-jsonschema on the same
// documents keeps the matchers and the patterns in step.
#include "domain/export_contract.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "domain/decimal.h"

namespace exportd {

namespace {

using Json = nlohmann::ordered_json;
using Result = std::optional<ContractViolation>;
// Checks a value found at `field`.
using Rule = std::function<Result(const Json& value, const std::string& field)>;

struct Pattern {
  std::string_view text;
  bool (*matches)(std::string_view);
};

// `shape` spells the text: '9' a digit, 'h' a lower-case hex digit, 'A' an
// upper-case letter; any other character stands for itself.
bool fits(std::string_view shape, std::string_view text) {
  if (text.size() != shape.size()) {
    return false;
  }
  for (size_t i = 0; i < shape.size(); ++i) {
    const char c = text[i];
    const bool digit = c >= '0' && c <= '9';
    const bool ok = shape[i] == '9'   ? digit
                    : shape[i] == 'h' ? digit || (c >= 'a' && c <= 'f')
                    : shape[i] == 'A' ? c >= 'A' && c <= 'Z'
                                      : c == shape[i];
    if (!ok) {
      return false;
    }
  }
  return true;
}

bool is_slug(std::string_view text) {
  const auto allowed = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (text.empty() || text.size() > 63 || !allowed(text.front())) {
    return false;
  }
  for (const char c : text.substr(1)) {
    if (!allowed(c) && c != '-') {
      return false;
    }
  }
  return true;
}

const Pattern kUuid{
    "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
    [](std::string_view s) { return fits("hhhhhhhh-hhhh-hhhh-hhhh-hhhhhhhhhhhh", s); }};
const Pattern kTimestamp{"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
                         [](std::string_view s) { return fits("9999-99-99T99:99:99Z", s); }};
const Pattern kDate{"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                    [](std::string_view s) { return fits("9999-99-99", s); }};
const Pattern kDecimal{R"(^-?[0-9]+(\.[0-9]+)?$)", is_decimal_text};
const Pattern kCurrency{"^[A-Z]{3}$", [](std::string_view s) { return fits("AAA", s); }};
const Pattern kSlug{"^[a-z0-9][a-z0-9-]{0,62}$", is_slug};

enum class Null { refused, allowed };

Result violation(const std::string& field, std::string rule) {
  return ContractViolation{field, std::move(rule)};
}

std::string type_rule(const char* type, Null null) {
  return std::string("must be of type ") + type + (null == Null::allowed ? " or null" : "");
}

std::string member(const std::string& field, const std::string& key) {
  return field.empty() ? key : field + "." + key;
}

// "type": "string", with a "pattern" when one is given; `null`: oneOf with
// {"type": "null"}, or "type": ["string", "null"].
Rule string(Null null = Null::refused, const Pattern* pattern = nullptr) {
  return [null, pattern](const Json& value, const std::string& field) -> Result {
    if (null == Null::allowed && value.is_null()) {
      return {};
    }
    if (!value.is_string()) {
      return violation(field, type_rule("string", null));
    }
    if (pattern != nullptr && !pattern->matches(value.get_ref<const std::string&>())) {
      return violation(field, "must match " + std::string(pattern->text));
    }
    return {};
  };
}

Rule matching(const Pattern& pattern, Null null = Null::refused) {
  return string(null, &pattern);
}

// The schema's "text": a string or null.
Rule text() {
  return string(Null::allowed);
}

// The schema's "address": any object, or null.
Rule address() {
  return [](const Json& value, const std::string& field) -> Result {
    if (!value.is_object() && !value.is_null()) {
      return violation(field, type_rule("object", Null::allowed));
    }
    return {};
  };
}

Rule constant(const std::string& expected) {
  return [expected](const Json& value, const std::string& field) -> Result {
    if (value != expected) {
      return violation(field, "must equal " + Json(expected).dump());
    }
    return {};
  };
}

// JSON Schema counts 1.0 as an integer: the value matters, not its spelling.
bool is_integer(const Json& value) {
  if (value.is_number_integer()) {
    return true;
  }
  if (!value.is_number_float()) {
    return false;
  }
  const double d = value.get<double>();
  return std::isfinite(d) && std::floor(d) == d;
}

bool is_below(const Json& value, std::int64_t minimum) {
  if (value.is_number_unsigned()) {
    return minimum > 0 && value.get<std::uint64_t>() < static_cast<std::uint64_t>(minimum);
  }
  if (value.is_number_integer()) {
    return value.get<std::int64_t>() < minimum;
  }
  return value.get<double>() < static_cast<double>(minimum);
}

Rule integer(std::int64_t minimum) {
  return [minimum](const Json& value, const std::string& field) -> Result {
    if (!is_integer(value)) {
      return violation(field, type_rule("integer", Null::refused));
    }
    if (is_below(value, minimum)) {
      return violation(field, "must be at least " + std::to_string(minimum));
    }
    return {};
  };
}

struct Property {
  std::string key;
  Rule rule;
};

// "type": "object", every property "required", "additionalProperties": false.
Rule object(std::vector<Property> properties, Null null = Null::refused) {
  return [properties = std::move(properties), null](const Json& value,
                                                    const std::string& field) -> Result {
    if (null == Null::allowed && value.is_null()) {
      return {};
    }
    if (!value.is_object()) {
      return violation(field, type_rule("object", null));
    }
    for (const auto& property : properties) {
      if (!value.contains(property.key)) {
        return violation(member(field, property.key), "is required");
      }
    }
    for (const auto& item : value.items()) {
      const std::string& key = item.key();
      const bool known = std::any_of(properties.begin(), properties.end(),
                                     [&](const Property& p) { return p.key == key; });
      if (!known) {
        return violation(member(field, key), "is not allowed");
      }
    }
    for (const auto& property : properties) {
      if (auto broken = property.rule(value.at(property.key), member(field, property.key))) {
        return broken;
      }
    }
    return {};
  };
}

Rule array_of(Rule items) {
  return [items = std::move(items)](const Json& value, const std::string& field) -> Result {
    if (!value.is_array()) {
      return violation(field, type_rule("array", Null::refused));
    }
    for (size_t i = 0; i < value.size(); ++i) {
      if (auto broken = items(value[i], field + "[" + std::to_string(i) + "]")) {
        return broken;
      }
    }
    return {};
  };
}

const Rule& document_rule() {
  static const Rule rule = [] {
    const Rule customer = object(
        {
            {"id", matching(kUuid)},
            {"erp_customer_number", text()},
            {"name", string()},
            {"email", text()},
            {"phone", text()},
            {"billing_address", address()},
            {"shipping_address", address()},
        },
        Null::allowed);
    const Rule header = object({
        {"external_order_number", text()},
        {"order_date", matching(kDate, Null::allowed)},
        {"requested_delivery_date", matching(kDate, Null::allowed)},
        {"currency", matching(kCurrency, Null::allowed)},
        {"notes", text()},
    });
    const Rule line = object({
        {"line_no", integer(1)},
        {"internal_sku", text()},
        {"customer_sku", text()},
        {"description", text()},
        {"qty", matching(kDecimal)},
        {"uom", text()},
        {"unit_price", matching(kDecimal, Null::allowed)},
        {"line_total", matching(kDecimal, Null::allowed)},
    });
    const Rule meta = object({
        {"export_id", matching(kUuid)},
        {"created_at", matching(kTimestamp)},
        {"exporter", string()},
        {"line_count", integer(0)},
    });
    return object({
        {"export_version", constant("orderflow_export_json_v1")},
        {"org_slug", matching(kSlug)},
        {"draft_order_id", matching(kUuid)},
        {"approved_at", matching(kTimestamp, Null::allowed)},
        {"customer", customer},
        {"header", header},
        {"lines", array_of(line)},
        {"meta", meta},
    });
  }();
  return rule;
}

}  // namespace

Failure ContractViolation::failure() const {
  return Failure(
      FailureKind::permanent,
      "cannot deliver a document that breaks the export contract: '" + field + "' " + rule,
      {{"field", field}, {"rule", rule}});
}

std::optional<ContractViolation> check_export_document(const nlohmann::ordered_json& document) {
  return document_rule()(document, "");
}

}  // namespace exportd
