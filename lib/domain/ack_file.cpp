// Ack file names, their content's validation and the verdict an answer gets.
#include "domain/ack_file.h"

#include <algorithm>

namespace exportd {

namespace {

bool is_uuid(std::string_view s) {
  if (s.size() != 36) {
    return false;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? c != '-' : !std::isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

// Nesting depth of the JSON text, counting brackets outside strings.
int nesting_depth(std::string_view bytes) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : bytes) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

// `text` as a reason may quote it: escaped, so the reason is one storable line.
std::string escaped_quote(std::string_view text) {
  const std::string dumped =
      nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string quoted = "'";
  return quoted.append(dumped, 1, dumped.size() - 2).append("'");
}

bool holds_nul(const nlohmann::json& value);

// The first key of `object` whose name or value holds a NUL character.
std::optional<std::string> key_holding_nul(const nlohmann::json& object) {
  for (const auto& [key, member] : object.items()) {
    if (key.find('\0') != std::string::npos || holds_nul(member)) {
      return key;
    }
  }
  return std::nullopt;
}

// PostgreSQL text and jsonb cannot hold a NUL character, so an answer with
// one in what is stored could never be recorded. Depth is bounded by
// kMaxAckNesting.
bool holds_nul(const nlohmann::json& value) {
  if (value.is_string()) {
    return value.get_ref<const std::string&>().find('\0') != std::string::npos;
  }
  if (value.is_object()) {
    return key_holding_nul(value).has_value();
  }
  return value.is_array() && std::any_of(value.begin(), value.end(), holds_nul);
}

std::string unstorable(std::string_view key) {
  return escaped_quote(key) + " holds a NUL character (\\u0000), which the database cannot store";
}

bool non_empty_string(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() && !it->get<std::string>().empty();
}

}  // namespace

std::optional<AckName> parse_ack_name(std::string_view file_name) {
  constexpr std::string_view kSuffix = ".json";
  AckName name{AckKind::ack, "", false};
  std::string_view rest;
  if (file_name.starts_with("ack_")) {
    rest = file_name.substr(4);
  } else if (file_name.starts_with("error_")) {
    name.kind = AckKind::error;
    rest = file_name.substr(6);
  } else {
    return std::nullopt;
  }
  if (!rest.ends_with(kSuffix) || rest.size() == kSuffix.size()) {
    return std::nullopt;
  }
  rest.remove_suffix(kSuffix.size());
  name.reference = std::string(rest);
  name.by_draft_id = is_uuid(rest);
  return name;
}

std::string ack_name_problem(std::string_view file_name) {
  try {
    nlohmann::json(file_name).dump();
    return "";
  } catch (const nlohmann::json::type_error&) {  // the strict dump's verdict on invalid UTF-8
    return "the file name is not valid UTF-8";
  }
}

AckParse parse_ack_content(AckKind named, std::string_view bytes) {
  if (nesting_depth(bytes) > kMaxAckNesting) {
    return {std::nullopt, "nested deeper than " + std::to_string(kMaxAckNesting) + " levels"};
  }
  const auto json = nlohmann::json::parse(bytes, nullptr, false);
  if (json.is_discarded()) {
    return {std::nullopt, "not valid JSON"};
  }
  if (!json.is_object()) {
    return {std::nullopt, "not a JSON object"};
  }
  const auto status = json.find("status");
  if (status == json.end() || !status->is_string()) {
    return {std::nullopt, "'status' is missing"};
  }
  const std::string value = status->get<std::string>();
  if (value != "ACKED" && value != "FAILED") {
    return {std::nullopt, "'status' must be ACKED or FAILED, got " + escaped_quote(value)};
  }
  const AckKind kind = value == "ACKED" ? AckKind::ack : AckKind::error;
  if (kind != named) {
    return {std::nullopt, "'status' " + value + " contradicts the file name's prefix"};
  }
  if (const auto at = json.find("processed_at"); at != json.end() && !at->is_string()) {
    return {std::nullopt, "'processed_at' must be a string"};
  }
  if (kind == AckKind::ack) {
    if (!non_empty_string(json, "erp_order_id")) {
      return {std::nullopt, "'erp_order_id' must be a non-empty string"};
    }
    if (holds_nul(json["erp_order_id"])) {
      return {std::nullopt, unstorable("erp_order_id")};
    }
    return {AckContent{kind, json["erp_order_id"].get<std::string>(), nullptr}, ""};
  }
  if (!non_empty_string(json, "error_code")) {
    return {std::nullopt, "'error_code' must be a non-empty string"};
  }
  if (const auto message = json.find("message");
      message != json.end() && !message->is_string() && !message->is_null()) {
    return {std::nullopt, "'message' must be a string"};
  }
  // The whole object is stored (error_json), so every key and value counts.
  if (const auto key = key_holding_nul(json)) {
    return {std::nullopt, unstorable(*key)};
  }
  return {AckContent{kind, "", json}, ""};
}

AckVerdict decide_ack(AckKind kind, std::optional<ExportStatus> export_status,
                      bool failed_by_ack_timeout) {
  if (!export_status) {
    return AckVerdict::no_export;
  }
  if (*export_status == ExportStatus::pending) {
    return AckVerdict::wait;
  }
  if (*export_status == ExportStatus::sent) {
    return AckVerdict::apply;
  }
  if (failed_by_ack_timeout) {
    return AckVerdict::contradiction;
  }
  const bool same = (*export_status == ExportStatus::acked) == (kind == AckKind::ack);
  return same ? AckVerdict::repeat : AckVerdict::contradiction;
}

const char* to_string(AckVerdict verdict) {
  switch (verdict) {
    case AckVerdict::apply:
      return "apply";
    case AckVerdict::repeat:
      return "repeat";
    case AckVerdict::contradiction:
      return "contradiction";
    case AckVerdict::wait:
      return "wait";
    case AckVerdict::no_export:
      return "no_export";
  }
  return "no_export";
}

const char* to_string(AckFileVerdict verdict) {
  switch (verdict) {
    case AckFileVerdict::acked:
      return "ACKED";
    case AckFileVerdict::rejected:
      return "REJECTED";
    case AckFileVerdict::repeat:
      return "REPEAT";
    case AckFileVerdict::contradiction:
      return "CONTRADICTION";
    case AckFileVerdict::no_export:
      return "NO_EXPORT";
    case AckFileVerdict::invalid:
      return "INVALID";
    case AckFileVerdict::too_large:
      return "TOO_LARGE";
  }
  return "INVALID";
}

}  // namespace exportd
