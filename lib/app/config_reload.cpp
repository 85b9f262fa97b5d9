// Reloading the daemon's configuration (see config_reload.h).
#include "app/config_reload.h"

#include <exception>

#include "logging/logging.h"

namespace exportd {

bool reload_config(const std::function<DaemonConfig()>& load, DaemonConfig& running,
                   const std::function<void(const DaemonConfig& running)>& apply) {
  DaemonConfig next;
  try {
    next = load();
  } catch (const std::exception& e) {
    log_event(Level::error, "configuration reload failed; the running configuration stays",
              {{"error", e.what()}});
    return false;
  }
  for (const auto& key : keys_needing_restart(running, next)) {
    log_event(Level::warn, "configuration change takes effect only after a restart",
              {{"key", key}});
  }
  apply_reloadable(next, running);
  apply(running);
  // Said at the old level, so a reload to a quieter one is still on record.
  log_event(Level::warn, "configuration reloaded",
            {{"log_level", describe_config(running)["log"]["level"]},
             {"export_poll_interval_s", running.export_poll_interval_s},
             {"ack_poll_interval_s", running.ack_poll_interval_s}});
  // Logs go to stderr (the journal): reopening them is reconfiguring them.
  setup_logging(running.log_level, running.log_format);
  return true;
}

}  // namespace exportd
