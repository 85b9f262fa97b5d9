// The daemon's TOML configuration (docs/configuration.md, "Daemon configuration"):
// one table of keys with types and defaults, validated completely at load;
// unknown keys are errors so a typo never falls back to a default silently.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "logging/logging.h"

namespace exportd {

// The most export workers one daemon runs; each holds a database connection.
inline constexpr int kMaxExportWorkers = 64;

enum class ArchiveMode { off, directory, s3 };

// Where the exact bytes of every delivered file are kept (docs/operations.md,
// "Archive"). The S3 secret is read from `secret_key_file` (or the systemd
// credential s3.secret) when the archive is opened, never from the TOML.
struct ArchiveConfig {
  ArchiveMode mode = ArchiveMode::off;
  std::string directory = "/var/lib/orderflow/archive";
  std::string endpoint;  // "https://s3.eu-central-1.amazonaws.com", "http://127.0.0.1:9000"
  std::string bucket;
  std::string region;
  std::string prefix;
  std::string access_key_id;
  std::string secret_key_file = "/etc/orderflow-exportd/s3.secret";
  bool operator==(const ArchiveConfig&) const = default;
};

// Days after which what the daemon keeps is removed; 0 keeps it forever
// (docs/configuration.md, "[retention]").
struct RetentionConfig {
  int ack_files_days = 30;
  int archive_days = 365;
  int finished_exports_days = 0;
  int audit_days = 0;  // 0, or at least kMinAuditDays
  bool operator==(const RetentionConfig&) const = default;
};

// Audit entries are kept at least this long when they are pruned at all.
inline constexpr int kMinAuditDays = 365;

struct DaemonConfig {
  std::string database_url;
  std::string redis_url;
  int redis_idempotency_ttl_s = 86400;
  int export_workers = 4;
  int export_batch_size = 32;
  int export_poll_interval_s = 5;
  int export_lease_s = 30;
  int export_max_sessions_per_connection = 2;
  int export_max_attempts = 8;
  int export_retry_backoff_s = 5;
  int export_retry_backoff_max_s = 900;
  std::vector<std::string> filesystem_roots{"/var/lib/orderflow/dropzone"};
  int ack_poll_interval_s = 60;
  int ack_max_file_bytes = 1048576;
  int ack_timeout_s = 86400;  // default ack deadline of a connection; 0: none
  std::string sftp_known_hosts = "/etc/orderflow-exportd/known_hosts";
  int sftp_operation_timeout_s = 30;
  std::string secrets_key_file = "/etc/orderflow-exportd/secret.key";
  Level log_level = Level::info;
  LogFormat log_format = LogFormat::json;
  std::string metrics_listen = "127.0.0.1:9464";
  ArchiveConfig archive;
  RetentionConfig retention;
};

struct EnvironmentOverrides {
  std::optional<std::string> database_url;  // EXPORTD_DATABASE_URL
  std::optional<std::string> redis_url;     // EXPORTD_REDIS_URL
  static EnvironmentOverrides from_process();
};

// Parses `toml_text` (named `source` in errors). A missing file is not an
// error when `must_exist` is false: defaults plus environment then apply.
// Throws Failure(bad_config) with one sentence naming the key.
DaemonConfig parse_daemon_config(const std::string& toml_text, const std::string& source,
                                 const EnvironmentOverrides& env);
DaemonConfig load_daemon_config(const std::string& path, const EnvironmentOverrides& env);

// The keys whose value differs between `running` and `next` but that only a
// restart applies ("export.workers", ...). Log level and format, poll
// intervals and the retry policy change on SIGHUP.
std::vector<std::string> keys_needing_restart(const DaemonConfig& running,
                                              const DaemonConfig& next);

// Copies the keys the table marks reloadable from `from` (a configuration
// just read again) into `to` (the running one); every other key keeps its
// running value.
void apply_reloadable(const DaemonConfig& from, DaemonConfig& to);

// The effective configuration with secrets (passwords in URLs) masked.
nlohmann::ordered_json describe_config(const DaemonConfig& config);

// "postgresql://user:secret@host/db" -> "postgresql://user:***@host/db";
// also "?password=secret" / "&password=secret" and the keyword form
// "host=db password=secret" (or password = 'quoted secret').
std::string mask_url_password(const std::string& url);

// Refuses (bad_config, naming [export] workers) a daemon whose `needed`
// database connections (workers plus its own) exceed `available` ones.
void check_database_capacity(const DaemonConfig& config, int needed, long long available);

}  // namespace exportd
