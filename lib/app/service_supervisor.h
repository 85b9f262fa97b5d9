// The daemon's supervising loop, against the ServiceNotifier port: READY once
// the database answers, STATUS every 10 s, WATCHDOG only while the export
// workers make progress, RELOADING then READY around a reload, STOPPING at
// the end; and the health /healthz reports. Signals, clocks and the workers
// come in as callables, so the loop runs the same under test.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "ports/service_notifier.h"

namespace exportd {

// What woke the supervisor: nothing (its tick), a reload or a stop request.
struct ServiceEvent {
  enum class Kind { tick, reload, stop };
  Kind kind = Kind::tick;
  std::string cause;  // for the log: the signal that asked ("SIGTERM")
};

class ServiceSupervisor {
 public:
  using Clock = std::chrono::steady_clock;

  struct Hooks {
    // Waits at most `timeout` for the next event; a tick when none came.
    std::function<ServiceEvent(std::chrono::microseconds timeout)> next_event;
    std::function<Clock::time_point()> now;
    // The database probe's last PENDING count; nullopt while it has none.
    std::function<std::optional<long long>()> pending;
    // The database probe's verdict, for health.
    std::function<bool()> database_reachable;
    // Whether every worker went round its loop within `max_silence`.
    std::function<bool(std::chrono::milliseconds max_silence)> progressing;
    // The line `systemctl status` shows, given the PENDING count.
    std::function<std::string(std::optional<long long> pending)> status_line;
    // Reads and applies the configuration again (a failure is its own to log).
    std::function<void()> reload;
  };

  // Asks `notifier` once for its watchdog interval.
  ServiceSupervisor(ServiceNotifier& notifier, Hooks hooks);

  // Runs until a stop event, then says STOPPING and returns.
  void run();

  // Why the daemon is unhealthy (database unreachable, workers stalled);
  // nullopt when it is healthy. Safe to call from any thread.
  std::optional<std::string> health_problem() const;

  // Silent longer than this, the workers are stalled: half the watchdog
  // interval, or half the unit's default WatchdogSec (90 s) without one.
  std::chrono::milliseconds stall_limit() const { return stall_limit_; }

 private:
  void on_tick(bool& ready, Clock::time_point& next_status);

  ServiceNotifier& notifier_;
  Hooks hooks_;
  std::optional<std::chrono::microseconds> watchdog_;
  std::chrono::microseconds tick_;
  std::chrono::milliseconds stall_limit_;
};

// Runs `stop`; if it has not returned after `grace`, runs `abandon` (from
// another thread) so that whatever `stop` waits for gives up.
void stop_within_grace(const std::function<void()>& stop, std::chrono::milliseconds grace,
                       const std::function<void()>& abandon);

}  // namespace exportd
