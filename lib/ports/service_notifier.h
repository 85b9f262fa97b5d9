// Port: telling the service manager how the daemon is doing (systemd's
// notify protocol in production). Every call is harmless when no manager
// listens.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace exportd {

class ServiceNotifier {
 public:
  virtual ~ServiceNotifier() = default;

  // Started: the database is reachable and the workers run.
  virtual void ready(const std::string& status) = 0;
  // A one-line summary for `systemctl status`.
  virtual void status(const std::string& status) = 0;
  // Proof of progress; only ever sent when the workers made some.
  virtual void watchdog() = 0;
  virtual void reloading() = 0;
  virtual void stopping() = 0;
  // How often the manager wants watchdog(); nullopt when it does not.
  virtual std::optional<std::chrono::microseconds> watchdog_interval() = 0;
};

}  // namespace exportd
