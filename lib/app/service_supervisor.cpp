// The supervising loop of `run` (see service_supervisor.h).
#include "app/service_supervisor.h"

#include <algorithm>
#include <future>
#include <thread>
#include <utility>

#include "logging/logging.h"

namespace exportd {

namespace {

constexpr std::chrono::seconds kStatusInterval(10);

}  // namespace

ServiceSupervisor::ServiceSupervisor(ServiceNotifier& notifier, Hooks hooks)
    : notifier_(notifier),
      hooks_(std::move(hooks)),
      watchdog_(notifier.watchdog_interval()),
      // Four chances per watchdog interval to prove progress.
      tick_(std::min<std::chrono::microseconds>(watchdog_.value_or(std::chrono::seconds(2)) / 4,
                                                std::chrono::milliseconds(500))),
      stall_limit_(std::chrono::duration_cast<std::chrono::milliseconds>(
          watchdog_.value_or(std::chrono::seconds(90)) / 2)) {}

void ServiceSupervisor::run() {
  bool ready = false;
  auto next_status = hooks_.now();
  for (;;) {
    const auto event = hooks_.next_event(tick_);
    if (event.kind == ServiceEvent::Kind::stop) {
      log_event(Level::info, "stopping", {{"signal", event.cause}});
      break;
    }
    if (event.kind == ServiceEvent::Kind::reload) {
      notifier_.reloading();
      hooks_.reload();
      notifier_.ready(hooks_.status_line(hooks_.pending()));
      continue;
    }
    on_tick(ready, next_status);
  }
  notifier_.stopping();
}

void ServiceSupervisor::on_tick(bool& ready, Clock::time_point& next_status) {
  const auto now = hooks_.now();
  if (!ready || now >= next_status) {
    const auto pending = hooks_.pending();
    if (!ready && pending) {
      ready = true;
      notifier_.ready(hooks_.status_line(pending));
      log_event(Level::info, "ready", {});
    } else if (ready) {
      notifier_.status(hooks_.status_line(pending));
    }
    next_status = now + kStatusInterval;
  }
  // A watchdog fed by a stuck daemon would be no watchdog: only progress feeds it.
  if (ready && watchdog_ && hooks_.progressing(stall_limit_)) {
    notifier_.watchdog();
  }
}

std::optional<std::string> ServiceSupervisor::health_problem() const {
  if (!hooks_.database_reachable()) {
    return "database unreachable";
  }
  if (!hooks_.progressing(stall_limit_)) {
    return "export workers stalled: a worker made no progress in " +
           std::to_string(stall_limit_.count()) + " ms";
  }
  return std::nullopt;
}

void stop_within_grace(const std::function<void()>& stop, std::chrono::milliseconds grace,
                       const std::function<void()>& abandon) {
  std::promise<void> stopped;
  std::jthread watcher([&abandon, grace, done = stopped.get_future()] {
    if (done.wait_for(grace) == std::future_status::timeout) {
      abandon();
    }
  });
  stop();
  stopped.set_value();
}

}  // namespace exportd
