// Parsing and validation of a connection's settings; each refusal names the key.
#include "domain/connection_settings.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "domain/failure.h"

namespace exportd {

namespace {

[[noreturn]] void reject(const std::string& why) {
  throw Failure(FailureKind::permanent, "invalid connection settings: " + why);
}

std::string required_string(const nlohmann::json& config, const char* key) {
  const auto it = config.find(key);
  if (it == config.end() || !it->is_string() || it->get<std::string>().empty()) {
    reject(std::string("'") + key + "' must be a non-empty string");
  }
  return it->get<std::string>();
}

std::string absolute_path(const nlohmann::json& config, const char* key) {
  auto path = required_string(config, key);
  if (path.front() != '/') {
    reject(std::string("'") + key + "' must be an absolute path, got '" + path + "'");
  }
  // Whatever '..' resolves to, it is not the directory the operator named.
  if (("/" + path + "/").find("/../") != std::string::npos) {
    reject(std::string("'") + key + "' must not contain '..', got '" + path + "'");
  }
  return path;
}

std::optional<int> optional_int(const nlohmann::json& config, const char* key, long long min,
                                long long max, const char* rule) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) {
    return std::nullopt;
  }
  if (!it->is_number_integer() || it->get<long long>() < min || it->get<long long>() > max) {
    reject(std::string("'") + key + "' must be " + rule);
  }
  return it->get<int>();
}

std::optional<int> optional_positive_int(const nlohmann::json& config, const char* key) {
  return optional_int(config, key, 1, 1000000, "a positive integer");
}

bool optional_bool(const nlohmann::json& config, const char* key, bool fallback) {
  const auto it = config.find(key);
  if (it == config.end()) {
    return fallback;
  }
  if (!it->is_boolean()) {
    reject(std::string("'") + key + "' must be true or false");
  }
  return it->get<bool>();
}

// {"cron": "*/15 6-21 * * 1-5", "timezone": "Europe/Berlin"}
std::optional<CronSchedule> optional_schedule(const nlohmann::json& config, const char* key) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) {
    return std::nullopt;
  }
  const std::string shape = std::string("'") + key +
                            "' must be an object with the strings 'cron' (5 fields) and "
                            "'timezone' (an IANA time zone such as 'Europe/Berlin')";
  if (!it->is_object() || it->size() != 2 || !it->contains("cron") || !(*it)["cron"].is_string() ||
      !it->contains("timezone") || !(*it)["timezone"].is_string()) {
    reject(shape);
  }
  try {
    return CronSchedule((*it)["cron"].get<std::string>(), (*it)["timezone"].get<std::string>());
  } catch (const Failure& failure) {
    reject(std::string("'") + key + "': " + failure.what());
  }
}

// As `ssh-keygen -lf` prints it: "SHA256:" and the unpadded base64 of 32 bytes.
bool is_sha256_fingerprint(const std::string& value) {
  constexpr std::string_view kPrefix = "SHA256:";
  constexpr size_t kDigits = 43;
  if (!value.starts_with(kPrefix) || value.size() != kPrefix.size() + kDigits) {
    return false;
  }
  return std::all_of(value.begin() + kPrefix.size(), value.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
  });
}

}  // namespace

ConnectionSettings parse_connection_settings(const nlohmann::json& config) {
  if (!config.is_object()) {
    reject("config must be a JSON object");
  }
  static const std::set<std::string> known{"mode",
                                           "export_path",
                                           "ack_path",
                                           "atomic_write",
                                           "host",
                                           "port",
                                           "username",
                                           "auth",
                                           "private_key_path",
                                           "host_key_sha256",
                                           "connect_timeout_s",
                                           "ack_poll_interval_s",
                                           "max_attempts",
                                           "retry_backoff_s",
                                           "ack_timeout_s",
                                           "on_ack_timeout",
                                           "delivery_schedule",
                                           "ack_schedule",
                                           "done_file",
                                           "checksum_file",
                                           "max_sessions"};
  for (const auto& [key, value] : config.items()) {
    if (!known.contains(key)) {
      reject("unknown key '" + key + "'");
    }
  }
  ConnectionSettings s;
  const auto mode = required_string(config, "mode");
  if (mode == "filesystem") {
    s.mode = DropzoneMode::filesystem;
  } else if (mode == "sftp") {
    s.mode = DropzoneMode::sftp;
  } else {
    reject("'mode' must be 'filesystem' or 'sftp', got '" + mode + "'");
  }
  s.export_path = absolute_path(config, "export_path");
  s.ack_path = absolute_path(config, "ack_path");
  s.atomic_write = optional_bool(config, "atomic_write", true);
  s.done_file = optional_bool(config, "done_file", false);
  s.checksum_file = optional_bool(config, "checksum_file", false);
  s.ack_poll_interval_s = optional_positive_int(config, "ack_poll_interval_s");
  s.delivery_schedule = optional_schedule(config, "delivery_schedule");
  s.ack_schedule = optional_schedule(config, "ack_schedule");
  if (s.ack_schedule && s.ack_poll_interval_s) {
    reject(
        "'ack_schedule' and 'ack_poll_interval_s' exclude each other: polls follow one or the "
        "other");
  }
  s.max_attempts = optional_positive_int(config, "max_attempts");
  s.max_sessions = optional_int(config, "max_sessions", 1, 1000, "an integer from 1 to 1000");
  s.retry_backoff_s = optional_positive_int(config, "retry_backoff_s");
  // The bound of the daemon's [ack] timeout_s: a year.
  s.ack_timeout_s =
      optional_int(config, "ack_timeout_s", 0, 31536000, "an integer from 0 (never) to 31536000");
  if (const auto it = config.find("on_ack_timeout"); it != config.end()) {
    if (*it == "fail") {
      s.on_ack_timeout = AckTimeoutAction::fail;
    } else if (*it != "alert") {
      reject("'on_ack_timeout' must be 'alert' or 'fail', got " +
             it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
  }
  if (s.mode == DropzoneMode::sftp) {
    s.host = required_string(config, "host");
    s.username = required_string(config, "username");
    s.port = optional_int(config, "port", 1, 65535, "an integer between 1 and 65535").value_or(22);
    s.auth = config.value("auth", std::string("publickey"));
    if (s.auth != "publickey" && s.auth != "password") {
      reject("'auth' must be 'publickey' or 'password', got '" + s.auth + "'");
    }
    if (s.auth == "publickey") {
      s.private_key_path = absolute_path(config, "private_key_path");
    }
    if (const auto it = config.find("host_key_sha256"); it != config.end()) {
      const auto pins = it->is_array() ? *it : nlohmann::json::array({*it});
      for (const auto& pin : pins) {
        if (!pin.is_string() || !is_sha256_fingerprint(pin.get<std::string>())) {
          reject(
              "'host_key_sha256' must be 'SHA256:' followed by 43 base64 characters, as "
              "ssh-keygen -lf prints it (or a list of such), got " +
              pin.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        }
        s.host_key_sha256.push_back(pin.get<std::string>());
      }
      if (s.host_key_sha256.empty()) {
        reject("'host_key_sha256' must be a fingerprint or a non-empty list of them");
      }
    }
    s.connect_timeout_s = optional_positive_int(config, "connect_timeout_s").value_or(10);
  }
  return s;
}

std::string delivery_endpoint(const ConnectionSettings& settings) {
  if (settings.mode == DropzoneMode::sftp) {
    return "sftp://" + settings.host + ":" + std::to_string(settings.port);
  }
  return "file://" + settings.export_path;
}

}  // namespace exportd
