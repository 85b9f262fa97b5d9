// The subcommands of shared/spec/cli.md. Each returns the process exit code.
#pragma once

#include <string>

#include "app/daemon_config.h"

namespace exportd::cli {

enum ExitCode { kOk = 0, kRuntimeFailure = 1, kBadConfig = 2, kRefused = 3 };

int run_daemon(const std::string& config_path, bool config_path_given);
int migrate(const DaemonConfig& config);
int check_config(const DaemonConfig& config);

// Loads the configuration; a missing default file means defaults plus
// environment, a missing file named with --config is an error.
DaemonConfig load_config(const std::string& path, bool path_given);

std::string migrations_dir();

}  // namespace exportd::cli
