// ServiceNotifier over libsystemd's sd_notify (NOTIFY_SOCKET, WATCHDOG_USEC).
#pragma once

#include "ports/service_notifier.h"

namespace exportd {

class SdNotifier : public ServiceNotifier {
 public:
  void ready(const std::string& status) override;
  void status(const std::string& status) override;
  void watchdog() override;
  void reloading() override;
  void stopping() override;
  std::optional<std::chrono::microseconds> watchdog_interval() override;
};

}  // namespace exportd
