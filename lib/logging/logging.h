// Structured logging on spdlog: one JSON object per line (or readable text),
// every line an event name plus fields. Lines about an export carry
// export_id, draft_order_id, org and attempt (see export_fields).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace exportd {

enum class Level { trace, debug, info, warn, error };
enum class LogFormat { json, text };

// Replaces the process logger (stderr). Safe to call again on reload.
void setup_logging(Level level, LogFormat format);

void log_event(Level level, std::string_view message, const nlohmann::json& fields);

// Parses "trace".."error"; nullopt for anything else.
std::optional<Level> parse_level(std::string_view text);

}  // namespace exportd
