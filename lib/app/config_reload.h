// What SIGHUP does to a running daemon's configuration: read it again, keep
// the running one when the new one is bad, apply only the keys the key table
// marks reloadable, and name each other key that changed.
#pragma once

#include <functional>

#include "app/daemon_config.h"

namespace exportd {

// Reads the configuration with `load`. When that throws, the error is logged
// and `running` stays as it is. Otherwise each changed key that only a restart
// applies is logged by name, the reloadable keys are copied into `running`,
// `apply` hands them to whoever uses them (the worker pool, the ack poller),
// and logging takes the new level and format. Returns whether it applied.
bool reload_config(const std::function<DaemonConfig()>& load, DaemonConfig& running,
                   const std::function<void(const DaemonConfig& running)>& apply);

}  // namespace exportd
