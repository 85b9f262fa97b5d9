// The sd_notify messages, one call each.
#include "adapters/systemd/sd_notifier.h"

#include <systemd/sd-daemon.h>

namespace exportd {

namespace {

// A status line is one line: newlines would end the STATUS= assignment.
std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n') {
      c = ' ';
    }
  }
  return text;
}

}  // namespace

void SdNotifier::ready(const std::string& status) {
  sd_notify(0, ("READY=1\nSTATUS=" + one_line(status)).c_str());
}

void SdNotifier::status(const std::string& status) {
  sd_notify(0, ("STATUS=" + one_line(status)).c_str());
}

void SdNotifier::watchdog() {
  sd_notify(0, "WATCHDOG=1");
}

void SdNotifier::reloading() {
  sd_notify(0, "RELOADING=1\nSTATUS=reloading the configuration");
}

void SdNotifier::stopping() {
  sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}

std::optional<std::chrono::microseconds> SdNotifier::watchdog_interval() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    return std::chrono::microseconds(usec);
  }
  return std::nullopt;
}

}  // namespace exportd
