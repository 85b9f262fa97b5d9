// The spdlog logger and the two line formats; values are escaped so an event
// never spans lines.
#include "logging/logging.h"

#include <atomic>
#include <optional>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace exportd {

namespace {

std::atomic<LogFormat> g_format{LogFormat::json};

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::trace:
      return spdlog::level::trace;
    case Level::debug:
      return spdlog::level::debug;
    case Level::info:
      return spdlog::level::info;
    case Level::warn:
      return spdlog::level::warn;
    case Level::error:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

// Invalid UTF-8 becomes U+FFFD instead of throwing: values come from files
// and servers the daemon does not control.
std::string json_text(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A text-format token: written raw only when nothing in it could split the
// line or blur where it ends (control characters, quotes, backslashes,
// invalid UTF-8 are what JSON escaping changes; spaces and '=' separate
// fields); otherwise quoted and escaped like a JSON string.
std::string text_token(std::string_view s, bool space_allowed) {
  std::string quoted = json_text(nlohmann::json(s));
  const std::string_view inner = std::string_view(quoted).substr(1, quoted.size() - 2);
  const bool plain = !s.empty() && inner == s && s.find('=') == std::string_view::npos &&
                     (space_allowed || s.find(' ') == std::string_view::npos);
  return plain ? std::string(s) : quoted;
}

std::string text_value(const nlohmann::json& value) {
  return value.is_string() ? text_token(value.get_ref<const std::string&>(), false)
                           : json_text(value);
}

}  // namespace

void setup_logging(Level level, LogFormat format) {
  // A reload changes the logger in place: other threads may be using it, so
  // it is never replaced once it exists (spdlog's level and pattern setters
  // are thread-safe).
  std::shared_ptr<spdlog::logger> logger = spdlog::get("exportd");
  if (!logger) {
    logger = std::make_shared<spdlog::logger>("exportd",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
    spdlog::register_logger(logger);
  }
  // The message part of a JSON line is the rest of the object, so ts and
  // level come first and the line stays one valid object.
  logger->set_pattern(format == LogFormat::json
                          ? R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})"
                          : "%Y-%m-%dT%H:%M:%S.%eZ %l %v",
                      spdlog::pattern_time_type::utc);
  logger->set_level(to_spdlog(level));
  logger->flush_on(spdlog::level::trace);
  g_format = format;
  if (spdlog::default_logger() != logger) {
    spdlog::set_default_logger(logger);
  }
}

void log_event(Level level, std::string_view message, const nlohmann::json& fields) {
  const auto spd_level = to_spdlog(level);
  if (!spdlog::default_logger_raw()->should_log(spd_level)) {
    return;
  }
  std::string line;
  if (g_format == LogFormat::json) {
    // Appended piece by piece: GCC 12 at -O3 reports a false -Wrestrict
    // overlap for `"literal" + std::string&&`.
    line.append("\"msg\":").append(json_text(nlohmann::json(message)));
    for (const auto& [key, value] : fields.items()) {
      line.append(",").append(json_text(nlohmann::json(key))).append(":");
      line.append(json_text(value));
    }
  } else {
    // The message is the event's name and may hold spaces; a message
    // carrying control characters or quotes is quoted as a whole.
    line = text_token(message, true);
    for (const auto& [key, value] : fields.items()) {
      line.append(" ").append(text_token(key, false)).append("=").append(text_value(value));
    }
  }
  spdlog::default_logger_raw()->log(spd_level, line);
}

std::optional<Level> parse_level(std::string_view text) {
  static constexpr std::pair<std::string_view, Level> kLevels[] = {{"trace", Level::trace},
                                                                   {"debug", Level::debug},
                                                                   {"info", Level::info},
                                                                   {"warn", Level::warn},
                                                                   {"error", Level::error}};
  for (const auto& [name, level] : kLevels) {
    if (name == text) {
      return level;
    }
  }
  return std::nullopt;
}

}  // namespace exportd
