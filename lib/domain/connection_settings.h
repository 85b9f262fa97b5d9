// Per-org dropzone settings (docs/configuration.md, "Connection settings"),
// parsed and validated from erp_connections.config.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/schedule.h"

namespace exportd {

enum class DropzoneMode { filesystem, sftp };

// What becomes of a SENT export left unanswered past its ack deadline.
enum class AckTimeoutAction {
  alert,  // logged and audited once; the export stays SENT
  fail,   // the export FAILED, its draft ERROR
};

struct ConnectionSettings {
  DropzoneMode mode = DropzoneMode::filesystem;
  std::string export_path;
  std::string ack_path;
  bool atomic_write = true;
  std::optional<int> ack_poll_interval_s;
  std::optional<int> max_attempts;
  std::optional<int> retry_backoff_s;
  // Seconds a SENT export may wait for its answer; 0: for ever. Unset: the
  // daemon's [ack] timeout_s.
  std::optional<int> ack_timeout_s;
  AckTimeoutAction on_ack_timeout = AckTimeoutAction::alert;
  // Unset: exports go at any time; set: only in the schedule's minutes.
  std::optional<CronSchedule> delivery_schedule;
  // Set: acks are polled in the schedule's minutes, not every interval.
  std::optional<CronSchedule> ack_schedule;
  // Beside each export file, an empty `{file}.done` marker for ERPs that
  // pick a file up only once its marker exists, and `{file}.sha256` in
  // sha256sum's format (written before the marker).
  // At most this many of the connection's exports in flight in one daemon;
  // unset: the daemon's [export] max_sessions_per_connection.
  std::optional<int> max_sessions;
  bool done_file = false;
  bool checksum_file = false;
  // sftp only
  std::string host;
  int port = 22;
  std::string username;
  std::string auth;  // "publickey" or "password"
  std::string private_key_path;
  // Pinned fingerprints, any one accepted (a server rotating its key);
  // empty: the daemon's known_hosts decides.
  std::vector<std::string> host_key_sha256;
  int connect_timeout_s = 10;
  // From the connection's encrypted secret, never from `config`.
  std::string password;
  std::string key_passphrase;

  bool operator==(const ConnectionSettings&) const = default;
};

// The server a connection's files go to, shared by every connection that
// uses it: "sftp://host:port", or "file://" and the export directory.
std::string delivery_endpoint(const ConnectionSettings& settings);

// Throws Failure(permanent) naming the offending key when the settings are
// not usable: a wrong row in the database cannot be fixed by retrying.
ConnectionSettings parse_connection_settings(const nlohmann::json& config);

}  // namespace exportd
