// The key table, its validation, and the environment overrides.
#include "app/daemon_config.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

#include <arpa/inet.h>

#include <toml++/toml.h>

#include "domain/dropzone_path.h"
#include "domain/failure.h"

namespace exportd {

namespace {

[[noreturn]] void bad(const std::string& message) {
  throw Failure(FailureKind::bad_config, message);
}

struct Key {
  const char* section;
  const char* name;
  // Reads the node into the config; throws bad_config with the key's name.
  std::function<void(const toml::node&, DaemonConfig&, const std::string& where)> read;
  // Writes the key into the description (secrets masked).
  std::function<nlohmann::ordered_json(const DaemonConfig&)> show;
  // Copies the key's value from one config to another (what a reload applies).
  std::function<void(const DaemonConfig& from, DaemonConfig& to)> copy;
  // SIGHUP may change it in a running daemon; other keys need a restart.
  bool reloadable = false;
};

template <typename T>
std::function<void(const DaemonConfig&, DaemonConfig&)> copy_of(T DaemonConfig::*member) {
  return [member](const DaemonConfig& from, DaemonConfig& to) { to.*member = from.*member; };
}

Key reloadable(Key key) {
  key.reloadable = true;
  return key;
}

std::string read_string(const toml::node& node, const std::string& where) {
  const auto value = node.value<std::string>();
  if (!value || !node.is_string()) {
    bad(where + " must be a string");
  }
  return *value;
}

int read_int(const toml::node& node, const std::string& where, long long min, long long max) {
  if (!node.is_integer()) {
    bad(where + " must be an integer");
  }
  const auto v = *node.value<long long>();
  if (v < min || v > max) {
    bad(where + " must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return static_cast<int>(v);
}

Key string_key(const char* section, const char* name, std::string DaemonConfig::*member,
               bool secret = false) {
  return {section, name,
          [member](const toml::node& n, DaemonConfig& c, const std::string& w) {
            c.*member = read_string(n, w);
          },
          [member, secret](const DaemonConfig& c) {
            return nlohmann::ordered_json(secret ? mask_url_password(c.*member) : c.*member);
          },
          copy_of(member)};
}

// "" (off), "IPV4:PORT" or "[IPV6]:PORT": what the HTTP server can bind,
// which resolves no host names.
void check_listen_address(const std::string& listen, const std::string& where) {
  if (listen.empty()) {
    return;
  }
  const auto colon = listen.rfind(':');
  const std::string host = colon == std::string::npos ? "" : listen.substr(0, colon);
  const std::string port = colon == std::string::npos ? "" : listen.substr(colon + 1);
  unsigned char address[16];
  const bool v6 = host.size() > 2 && host.front() == '[' && host.back() == ']';
  const bool host_ok =
      v6 ? inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), address) == 1
         : inet_pton(AF_INET, host.c_str(), address) == 1;
  const bool port_ok = !port.empty() && port.size() <= 5 &&
                       port.find_first_not_of("0123456789") == std::string::npos &&
                       std::stoi(port) >= 1 && std::stoi(port) <= 65535;
  if (!host_ok || !port_ok) {
    bad(where +
        " must be ADDRESS:PORT with a numeric address (127.0.0.1:9464, [::1]:9464), or \"\"" +
        " to turn metrics off; got '" + listen + "'");
  }
}

Key int_key(const char* section, const char* name, int DaemonConfig::*member, long long min,
            long long max) {
  return {section, name,
          [member, min, max](const toml::node& n, DaemonConfig& c, const std::string& w) {
            c.*member = read_int(n, w, min, max);
          },
          [member](const DaemonConfig& c) { return nlohmann::ordered_json(c.*member); },
          copy_of(member)};
}

Key archive_key(const char* name, std::string ArchiveConfig::*member) {
  return {"archive", name,
          [member](const toml::node& n, DaemonConfig& c, const std::string& w) {
            c.archive.*member = read_string(n, w);
          },
          [member](const DaemonConfig& c) { return nlohmann::ordered_json(c.archive.*member); },
          [member](const DaemonConfig& from, DaemonConfig& to) {
            to.archive.*member = from.archive.*member;
          }};
}

// Retention runs hourly and reads its keys each time, so SIGHUP applies them.
Key retention_key(const char* name, int RetentionConfig::*member, long long min) {
  Key key{"retention", name,
          [member, min](const toml::node& n, DaemonConfig& c, const std::string& w) {
            c.retention.*member = read_int(n, w, min, 36500);
          },
          [member](const DaemonConfig& c) { return nlohmann::ordered_json(c.retention.*member); },
          [member](const DaemonConfig& from, DaemonConfig& to) {
            to.retention.*member = from.retention.*member;
          }};
  return reloadable(std::move(key));
}

// The keys [archive] mode needs, checked once the whole file is read.
void check_archive(const ArchiveConfig& archive) {
  if (archive.mode == ArchiveMode::directory &&
      (archive.directory.empty() || archive.directory.front() != '/')) {
    bad("'archive.directory' must be an absolute path when 'archive.mode' is 'directory'");
  }
  if (archive.mode == ArchiveMode::s3) {
    for (const auto& [name, value] :
         {std::pair{"endpoint", &archive.endpoint}, std::pair{"bucket", &archive.bucket},
          std::pair{"region", &archive.region},
          std::pair{"access_key_id", &archive.access_key_id}}) {
      if (value->empty()) {
        bad(std::string("'archive.")
                .append(name)
                .append("' must be set when 'archive.mode' is 's3'"));
      }
    }
    if (!archive.endpoint.starts_with("https://") && !archive.endpoint.starts_with("http://")) {
      bad("'archive.endpoint' must start with https:// or http://, got '" + archive.endpoint + "'");
    }
  }
}

const std::vector<Key>& keys() {
  static const std::vector<Key> table{
      string_key("database", "url", &DaemonConfig::database_url, true),
      string_key("redis", "url", &DaemonConfig::redis_url, true),
      int_key("redis", "idempotency_ttl_s", &DaemonConfig::redis_idempotency_ttl_s, 1, 31536000),
      // Each worker holds a database connection; `run` also checks what the
      // server can serve.
      int_key("export", "workers", &DaemonConfig::export_workers, 1, kMaxExportWorkers),
      int_key("export", "batch_size", &DaemonConfig::export_batch_size, 1, 1000),
      reloadable(
          int_key("export", "poll_interval_s", &DaemonConfig::export_poll_interval_s, 1, 3600)),
      int_key("export", "lease_s", &DaemonConfig::export_lease_s, 5, 3600),
      int_key("export", "max_sessions_per_connection",
              &DaemonConfig::export_max_sessions_per_connection, 1, 1000),
      reloadable(int_key("export", "max_attempts", &DaemonConfig::export_max_attempts, 1, 1000)),
      reloadable(
          int_key("export", "retry_backoff_s", &DaemonConfig::export_retry_backoff_s, 1, 86400)),
      reloadable(int_key("export", "retry_backoff_max_s", &DaemonConfig::export_retry_backoff_max_s,
                         1, 604800)),
      {"export", "filesystem_roots",
       [](const toml::node& n, DaemonConfig& c, const std::string& w) {
         const auto* array = n.as_array();
         if (array == nullptr) {
           bad(w + " must be an array of absolute paths");
         }
         if (array->empty()) {
           bad(w + " must name at least one directory");
         }
         c.filesystem_roots.clear();
         for (const auto& item : *array) {
           const auto path = read_string(item, w + " entries");
           if (path.empty() || path.front() != '/') {
             bad(w + " entry '" + path + "' is not an absolute path");
           }
           // The rule the filesystem dropzone applies at start-up.
           try {
             normalize_absolute_path(path);
           } catch (const Failure& e) {
             bad(w + " entry: " + e.what());
           }
           c.filesystem_roots.push_back(path);
         }
       },
       [](const DaemonConfig& c) { return nlohmann::ordered_json(c.filesystem_roots); },
       copy_of(&DaemonConfig::filesystem_roots)},
      reloadable(int_key("ack", "poll_interval_s", &DaemonConfig::ack_poll_interval_s, 1, 86400)),
      // Each file is read whole into memory.
      int_key("ack", "max_file_bytes", &DaemonConfig::ack_max_file_bytes, 1, 16 << 20),
      reloadable(int_key("ack", "timeout_s", &DaemonConfig::ack_timeout_s, 0, 31536000)),
      string_key("sftp", "known_hosts", &DaemonConfig::sftp_known_hosts),
      int_key("sftp", "operation_timeout_s", &DaemonConfig::sftp_operation_timeout_s, 1, 3600),
      string_key("secrets", "key_file", &DaemonConfig::secrets_key_file),
      reloadable(Key{"log", "level",
                     [](const toml::node& n, DaemonConfig& c, const std::string& w) {
                       const auto level = parse_level(read_string(n, w));
                       if (!level) {
                         bad(w + " must be one of trace, debug, info, warn, error");
                       }
                       c.log_level = *level;
                     },
                     [](const DaemonConfig& c) {
                       static const char* names[] = {"trace", "debug", "info", "warn", "error"};
                       return nlohmann::ordered_json(names[static_cast<int>(c.log_level)]);
                     },
                     copy_of(&DaemonConfig::log_level)}),
      reloadable(Key{"log", "format",
                     [](const toml::node& n, DaemonConfig& c, const std::string& w) {
                       const auto format = read_string(n, w);
                       if (format != "json" && format != "text") {
                         bad(w + " must be 'json' or 'text'");
                       }
                       c.log_format = format == "json" ? LogFormat::json : LogFormat::text;
                     },
                     [](const DaemonConfig& c) {
                       return nlohmann::ordered_json(c.log_format == LogFormat::json ? "json"
                                                                                     : "text");
                     },
                     copy_of(&DaemonConfig::log_format)}),
      {"archive", "mode",
       [](const toml::node& n, DaemonConfig& c, const std::string& w) {
         const auto mode = read_string(n, w);
         if (mode != "off" && mode != "directory" && mode != "s3") {
           bad(w + " must be 'off', 'directory' or 's3'");
         }
         c.archive.mode = mode == "off"         ? ArchiveMode::off
                          : mode == "directory" ? ArchiveMode::directory
                                                : ArchiveMode::s3;
       },
       [](const DaemonConfig& c) {
         static const char* names[] = {"off", "directory", "s3"};
         return nlohmann::ordered_json(names[static_cast<int>(c.archive.mode)]);
       },
       [](const DaemonConfig& from, DaemonConfig& to) { to.archive.mode = from.archive.mode; }},
      archive_key("directory", &ArchiveConfig::directory),
      archive_key("endpoint", &ArchiveConfig::endpoint),
      archive_key("bucket", &ArchiveConfig::bucket),
      archive_key("region", &ArchiveConfig::region),
      archive_key("prefix", &ArchiveConfig::prefix),
      archive_key("access_key_id", &ArchiveConfig::access_key_id),
      archive_key("secret_key_file", &ArchiveConfig::secret_key_file),
      retention_key("ack_files_days", &RetentionConfig::ack_files_days, 0),
      retention_key("archive_days", &RetentionConfig::archive_days, 0),
      retention_key("finished_exports_days", &RetentionConfig::finished_exports_days, 0),
      // Below the compliance minimum only 0 (keep forever) is accepted; the
      // range check below names it.
      retention_key("audit_days", &RetentionConfig::audit_days, 0),
      {"metrics", "listen",
       [](const toml::node& n, DaemonConfig& c, const std::string& w) {
         c.metrics_listen = read_string(n, w);
         check_listen_address(c.metrics_listen, w);
       },
       [](const DaemonConfig& c) { return nlohmann::ordered_json(c.metrics_listen); },
       copy_of(&DaemonConfig::metrics_listen)},
  };
  return table;
}

const Key* find_key(const std::string& section, const std::string& name) {
  for (const auto& key : keys()) {
    if (section == key.section && name == key.name) {
      return &key;
    }
  }
  return nullptr;
}

bool known_section(const std::string& section) {
  for (const auto& key : keys()) {
    if (section == key.section) {
      return true;
    }
  }
  return false;
}

}  // namespace

EnvironmentOverrides EnvironmentOverrides::from_process() {
  EnvironmentOverrides env;
  if (const char* v = std::getenv("EXPORTD_DATABASE_URL"); v != nullptr && *v != '\0') {
    env.database_url = v;
  }
  if (const char* v = std::getenv("EXPORTD_REDIS_URL"); v != nullptr && *v != '\0') {
    env.redis_url = v;
  }
  return env;
}

DaemonConfig parse_daemon_config(const std::string& toml_text, const std::string& source,
                                 const EnvironmentOverrides& env) {
  DaemonConfig config;
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    bad("cannot parse '" + source + "' at line " + std::to_string(where.line) + ": " +
        std::string(e.description()));
  }
  for (const auto& [section_key, section_node] : root) {
    const std::string section(section_key.str());
    if (!known_section(section)) {
      bad("unknown section [" + section + "] in '" + source + "'");
    }
    const auto* table = section_node.as_table();
    if (table == nullptr) {
      bad("'" + section + "' in '" + source + "' must be a table");
    }
    for (const auto& [name_key, node] : *table) {
      const std::string name(name_key.str());
      const Key* key = find_key(section, name);
      if (key == nullptr) {
        bad("unknown key '" + section + "." + name + "' in '" + source + "'");
      }
      key->read(node, config, "'" + section + "." + name + "'");
    }
  }
  if (env.database_url) {
    config.database_url = *env.database_url;
  }
  if (env.redis_url) {
    config.redis_url = *env.redis_url;
  }
  if (config.database_url.empty()) {
    bad("no database URL: set 'database.url' in '" + source + "' or EXPORTD_DATABASE_URL");
  }
  if (config.export_retry_backoff_max_s < config.export_retry_backoff_s) {
    bad("'export.retry_backoff_max_s' must not be smaller than 'export.retry_backoff_s'");
  }
  if (config.retention.audit_days != 0 && config.retention.audit_days < kMinAuditDays) {
    bad("'retention.audit_days' must be 0 (keep forever) or at least " +
        std::to_string(kMinAuditDays) + ", got " + std::to_string(config.retention.audit_days));
  }
  check_archive(config.archive);
  return config;
}

DaemonConfig load_daemon_config(const std::string& path, const EnvironmentOverrides& env) {
  std::ifstream in(path);
  if (!in) {
    bad("cannot read configuration file '" + path + "'");
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse_daemon_config(text.str(), path, env);
}

std::vector<std::string> keys_needing_restart(const DaemonConfig& running,
                                              const DaemonConfig& next) {
  std::vector<std::string> changed;
  for (const auto& key : keys()) {
    if (!key.reloadable && key.show(running) != key.show(next)) {
      changed.push_back(std::string(key.section) + "." + key.name);
    }
  }
  return changed;
}

void apply_reloadable(const DaemonConfig& from, DaemonConfig& to) {
  for (const auto& key : keys()) {
    if (key.reloadable) {
      key.copy(from, to);
    }
  }
}

nlohmann::ordered_json describe_config(const DaemonConfig& config) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& key : keys()) {
    out[key.section][key.name] = key.show(config);
  }
  return out;
}

void check_database_capacity(const DaemonConfig& config, int needed, long long available) {
  if (needed > available) {
    bad("'export.workers' = " + std::to_string(config.export_workers) + " needs " +
        std::to_string(needed) + " database connections with the daemon's own, but the server " +
        "has " + std::to_string(std::max(available, 0LL)) +
        " free (max_connections less superuser_reserved_connections and those in use): " +
        "lower [export] workers or raise max_connections");
  }
}

std::string mask_url_password(const std::string& url) {
  constexpr std::string_view kMask = "***";
  std::string out = url;
  const auto scheme = out.find("://");
  if (scheme != std::string::npos) {
    // URI form: the userinfo of the authority, and a password parameter.
    const auto authority_end = std::min(out.find_first_of("/?#", scheme + 3), out.size());
    const auto at = out.rfind('@', authority_end);
    const auto colon = out.find(':', scheme + 3);
    if (at != std::string::npos && at > scheme && colon < at) {
      out.replace(colon + 1, at - colon - 1, kMask);
    }
    for (auto key = out.find("password=", out.find('?')); key != std::string::npos;
         key = out.find("password=", key + 1)) {
      if (out[key - 1] != '?' && out[key - 1] != '&') {
        continue;
      }
      const auto value = key + std::string_view("password=").size();
      out.replace(value, out.find_first_of("&#", value) - value, kMask);
    }
    return out;
  }
  // Keyword form: password = value, the value maybe quoted with \' inside.
  for (auto key = out.find("password"); key != std::string::npos;
       key = out.find("password", key + 1)) {
    if (key > 0 && !std::isspace(static_cast<unsigned char>(out[key - 1]))) {
      continue;
    }
    auto value = out.find_first_not_of(' ', key + std::string_view("password").size());
    if (value == std::string::npos || out[value] != '=') {
      continue;
    }
    value = std::min(out.find_first_not_of(' ', value + 1), out.size());
    auto end = value;
    if (end < out.size() && out[end] == '\'') {
      for (++end; end < out.size() && out[end] != '\''; ++end) {
        end += out[end] == '\\' ? 1 : 0;
      }
      end = std::min(end + 1, out.size());
    } else {
      end = std::min(out.find_first_of(" \t\n", value), out.size());
    }
    out.replace(value, end - value, kMask);
  }
  return out;
}

}  // namespace exportd
