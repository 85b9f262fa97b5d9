// The subcommands of the command line (docs/orderflow-exportd.8.md, "COMMANDS").
// Each returns the process exit code.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "app/daemon_config.h"
#include "app/draft_commands.h"
#include "app/dropzone_cache.h"

namespace exportd {
class Archive;
class SocketDeadlines;
}  // namespace exportd

namespace exportd::cli {

enum ExitCode { kOk = 0, kRuntimeFailure = 1, kBadConfig = 2, kRefused = 3 };

int run_daemon(const std::string& config_path, bool config_path_given);
int migrate(const DaemonConfig& config);
int check_config(const DaemonConfig& config);
int connection_set(const DaemonConfig& config, const std::string& org_slug, const std::string& file,
                   bool password_stdin);
int connection_test(const DaemonConfig& config, const std::string& org_slug);
int status(const DaemonConfig& config, bool json);
int approve(const DaemonConfig& config, const std::string& draft_id, const std::string& actor);
// push (from APPROVED) and retry (from ERROR); prints the export id.
int push(const DaemonConfig& config, const PushRequest& request);
// Applies [retention] once and prints what it removed (or, dry, would remove).
int prune(const DaemonConfig& config, bool dry_run, bool json);
int show(const DaemonConfig& config, const std::string& export_id, bool json);
int resend(const DaemonConfig& config, const std::string& export_id,
           const std::optional<std::string>& actor);

// Loads the configuration; a missing default file means defaults plus
// environment, a missing file named with --config is an error.
DaemonConfig load_config(const std::string& path, bool path_given);

std::string migrations_dir();

// SFTP dropzones with the daemon's known_hosts and operation timeout.
DropzoneCache::RemoteFactory remote_dropzones(const DaemonConfig& config,
                                              SocketDeadlines& deadlines);
// The archive `[archive]` configures, its S3 secret read now; null when
// mode is "off". Throws Failure(bad_config) naming the key at fault.
std::unique_ptr<Archive> open_archive(const DaemonConfig& config);

// Opens connection secrets with the key of `[secrets]` (or systemd's credential).
SecretOpener secret_opener(const DaemonConfig& config);

}  // namespace exportd::cli
