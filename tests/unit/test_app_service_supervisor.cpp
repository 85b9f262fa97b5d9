// The supervising loop on a fake service manager and a clock the test moves:
// READY, STATUS, watchdog gating, reload, stop; and what a reload applies.
#include <catch2/catch.hpp>

#include <algorithm>
#include <future>
#include <set>

#include "app/config_reload.h"
#include "app/service_supervisor.h"
#include "domain/failure.h"
#include "tests/support/captured_log.h"

using namespace exportd;
using namespace exportd::testing;
using namespace std::chrono_literals;

namespace {

// Every notification as one string, in order, with the reloads in between.
class FakeNotifier : public ServiceNotifier {
 public:
  explicit FakeNotifier(std::optional<std::chrono::microseconds> watchdog) : watchdog_(watchdog) {}

  void ready(const std::string& status) override { said.push_back("READY=1 STATUS=" + status); }
  void status(const std::string& status) override { said.push_back("STATUS=" + status); }
  void watchdog() override { said.push_back("WATCHDOG=1"); }
  void reloading() override { said.push_back("RELOADING=1"); }
  void stopping() override { said.push_back("STOPPING=1"); }
  std::optional<std::chrono::microseconds> watchdog_interval() override { return watchdog_; }

  std::vector<std::string> said;

 private:
  std::optional<std::chrono::microseconds> watchdog_;
};

// A daemon as the supervisor sees it. `script` is called at each wait with
// its number (from 0), after the clock moved on by the wait's timeout; it may
// change what the daemon reports and says what woke the supervisor.
struct Daemon {
  explicit Daemon(std::optional<std::chrono::microseconds> watchdog) : notifier(watchdog) {}

  ServiceSupervisor supervisor() {
    ServiceSupervisor::Hooks hooks;
    hooks.next_event = [this](std::chrono::microseconds timeout) {
      timeouts.push_back(timeout);
      now += timeout;
      return script(waits++);
    };
    hooks.now = [this] { return now; };
    hooks.pending = [this] { return pending; };
    hooks.database_reachable = [this] { return reachable; };
    hooks.progressing = [this](std::chrono::milliseconds max_silence) {
      silences.insert(max_silence);
      return progressing;
    };
    hooks.status_line = [](std::optional<long long> count) {
      return count ? std::to_string(*count) + " pending" : "database unreachable";
    };
    hooks.reload = [this] {
      notifier.said.push_back("reload");
      reload();
    };
    return ServiceSupervisor(notifier, std::move(hooks));
  }

  FakeNotifier notifier;
  ServiceSupervisor::Clock::time_point now{};
  std::optional<long long> pending = 0;
  bool reachable = true;
  bool progressing = true;
  std::function<ServiceEvent(int wait)> script;
  std::function<void()> reload = [] {};
  int waits = 0;
  std::vector<std::chrono::microseconds> timeouts;
  std::set<std::chrono::milliseconds> silences;
};

ServiceEvent tick() {
  return {};
}

ServiceEvent stop() {
  return {ServiceEvent::Kind::stop, "SIGTERM"};
}

ServiceEvent reload() {
  return {ServiceEvent::Kind::reload, "SIGHUP"};
}

std::vector<std::string> repeated(const std::string& message, int times) {
  return std::vector<std::string>(times, message);
}

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

bool logged(const CapturedLog& log, const std::string& text) {
  const auto lines = log.lines();
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& line) { return line.find(text) != std::string::npos; });
}

}  // namespace

TEST_CASE("supervisor: READY once the database answers, then STATUS every 10 s",
          "[app][supervisor]") {
  CapturedLog log(LogFormat::json);
  Daemon daemon(std::nullopt);
  daemon.pending = std::nullopt;
  // Waits of 500 ms: the database answers at the fifth (2.5 s), READY then.
  daemon.script = [&](int wait) {
    if (wait == 4) {
      daemon.pending = 3;
    }
    if (wait == 20) {
      daemon.pending = 7;
    }
    return wait == 50 ? stop() : tick();
  };
  daemon.supervisor().run();

  // 12.5 s and 22.5 s; without a watchdog interval, no WATCHDOG at all.
  CHECK(daemon.notifier.said == std::vector<std::string>{"READY=1 STATUS=3 pending",
                                                         "STATUS=7 pending", "STATUS=7 pending",
                                                         "STOPPING=1"});
  CHECK(std::all_of(daemon.timeouts.begin(), daemon.timeouts.end(),
                    [](auto timeout) { return timeout == 500ms; }));
  CHECK(logged(log, R"("ready")"));
}

TEST_CASE("supervisor: STATUS says when the database stops answering", "[app][supervisor]") {
  Daemon daemon(std::nullopt);
  daemon.script = [&](int wait) {
    if (wait == 1) {
      daemon.pending = std::nullopt;
    }
    return wait == 21 ? stop() : tick();
  };
  daemon.supervisor().run();
  CHECK(daemon.notifier.said == std::vector<std::string>{"READY=1 STATUS=0 pending",
                                                         "STATUS=database unreachable",
                                                         "STOPPING=1"});
}

TEST_CASE("supervisor: WATCHDOG only while the workers progress, again once they do",
          "[app][supervisor]") {
  // A 2 s watchdog: a wait of 500 ms, stalled after 1 s of silence.
  Daemon daemon(2s);
  daemon.script = [&](int wait) {
    daemon.progressing = wait < 4 || wait >= 8;
    return wait == 10 ? stop() : tick();
  };
  daemon.supervisor().run();

  CHECK(daemon.notifier.said == std::vector<std::string>{"READY=1 STATUS=0 pending"} +
                                    repeated("WATCHDOG=1", 4) + repeated("WATCHDOG=1", 2) +
                                    std::vector<std::string>{"STOPPING=1"});
  CHECK(daemon.silences == std::set<std::chrono::milliseconds>{1000ms});
  CHECK(daemon.timeouts.front() == 500ms);
}

TEST_CASE("supervisor: no WATCHDOG before READY; a shorter watchdog waits shorter",
          "[app][supervisor]") {
  Daemon daemon(1s);
  daemon.pending = std::nullopt;
  daemon.script = [&](int wait) {
    if (wait == 2) {
      daemon.pending = 0;
    }
    return wait == 3 ? stop() : tick();
  };
  daemon.supervisor().run();
  CHECK(daemon.notifier.said ==
        std::vector<std::string>{"READY=1 STATUS=0 pending", "WATCHDOG=1", "STOPPING=1"});
  CHECK(daemon.timeouts.front() == 250ms);
  CHECK(daemon.silences == std::set<std::chrono::milliseconds>{500ms});
}

TEST_CASE("supervisor: a reload says RELOADING, reloads, then READY", "[app][supervisor]") {
  Daemon daemon(std::nullopt);
  int reloads = 0;
  daemon.reload = [&] { ++reloads; };
  daemon.script = [&](int wait) {
    if (wait == 1) {
      daemon.pending = 4;
      return reload();
    }
    return wait == 2 ? stop() : tick();
  };
  daemon.supervisor().run();
  CHECK(reloads == 1);
  CHECK(daemon.notifier.said == std::vector<std::string>{"READY=1 STATUS=0 pending", "RELOADING=1",
                                                         "reload", "READY=1 STATUS=4 pending",
                                                         "STOPPING=1"});
}

TEST_CASE("supervisor: a reload that fails keeps the configuration and still says READY",
          "[app][supervisor]") {
  CapturedLog log(LogFormat::json);
  const auto running = parse_daemon_config(
      "[database]\nurl = \"postgresql://a@/b\"\n[log]\nlevel = \"info\"\n", "exportd.toml", {});
  auto current = running;
  bool applied = false;
  Daemon daemon(std::nullopt);
  daemon.reload = [&] {
    CHECK_FALSE(reload_config(
        []() -> DaemonConfig {
          throw Failure(FailureKind::bad_config, "unknown key 'log.bogus' in 'exportd.toml'");
        },
        current, [&](const DaemonConfig&) { applied = true; }));
  };
  daemon.script = [&](int wait) { return wait == 0 ? reload() : stop(); };
  daemon.supervisor().run();

  CHECK_FALSE(applied);
  CHECK(describe_config(current) == describe_config(running));
  CHECK(daemon.notifier.said == std::vector<std::string>{"RELOADING=1", "reload",
                                                         "READY=1 STATUS=0 pending", "STOPPING=1"});
  CHECK(logged(log, "configuration reload failed; the running configuration stays"));
  CHECK(logged(log, "unknown key 'log.bogus'"));
}

TEST_CASE("supervisor: stop says STOPPING, names the signal and returns", "[app][supervisor]") {
  CapturedLog log(LogFormat::json);
  Daemon daemon(2s);
  daemon.script = [](int) { return ServiceEvent{ServiceEvent::Kind::stop, "SIGINT"}; };
  daemon.supervisor().run();
  CHECK(daemon.waits == 1);
  CHECK(daemon.notifier.said == std::vector<std::string>{"STOPPING=1"});
  CHECK(logged(log, R"("stopping","signal":"SIGINT")"));
}

TEST_CASE("supervisor: health names the database, then stalled workers", "[app][supervisor]") {
  Daemon with_watchdog(2s);
  const auto supervisor = with_watchdog.supervisor();
  CHECK_FALSE(supervisor.health_problem());
  with_watchdog.progressing = false;
  CHECK(supervisor.health_problem() ==
        "export workers stalled: a worker made no progress in 1000 ms");
  with_watchdog.reachable = false;
  CHECK(supervisor.health_problem() == "database unreachable");

  // Without a watchdog interval, half of the unit's default 90 s.
  Daemon without(std::nullopt);
  CHECK(without.supervisor().stall_limit() == 45000ms);
}

TEST_CASE("reload applies exactly the reloadable keys and names the others", "[app][config]") {
  const std::set<std::string> reloadable{"export.poll_interval_s",
                                         "export.max_attempts",
                                         "export.retry_backoff_s",
                                         "export.retry_backoff_max_s",
                                         "ack.poll_interval_s",
                                         "ack.timeout_s",
                                         "retention.ack_files_days",
                                         "retention.archive_days",
                                         "retention.finished_exports_days",
                                         "retention.audit_days",
                                         "log.level",
                                         "log.format"};
  const auto before = parse_daemon_config("[database]\nurl = \"postgresql://a@/b\"\n", "a", {});
  // Every key differs from the defaults.
  const auto next = parse_daemon_config(
      "[database]\nurl = \"postgresql://a@/c\"\n"
      "[redis]\nurl = \"redis://r\"\nidempotency_ttl_s = 60\n"
      "[export]\nworkers = 2\nbatch_size = 3\npoll_interval_s = 9\nlease_s = 60\n"
      "max_sessions_per_connection = 5\n"
      "max_attempts = 3\nretry_backoff_s = 7\nretry_backoff_max_s = 70\n"
      "filesystem_roots = [\"/srv/drop\"]\n"
      "[ack]\npoll_interval_s = 5\nmax_file_bytes = 4096\ntimeout_s = 60\n"
      "[archive]\nmode = \"s3\"\ndirectory = \"/a\"\nendpoint = \"http://127.0.0.1:1\"\n"
      "bucket = \"b\"\nregion = \"r\"\nprefix = \"p/\"\naccess_key_id = \"k\"\n"
      "secret_key_file = \"/s3.secret\"\n"
      "[retention]\nack_files_days = 1\narchive_days = 2\nfinished_exports_days = 3\n"
      "audit_days = 400\n"
      "[sftp]\nknown_hosts = \"/k\"\noperation_timeout_s = 9\n"
      "[secrets]\nkey_file = \"/s.key\"\n"
      "[log]\nlevel = \"warn\"\nformat = \"text\"\n"
      "[metrics]\nlisten = \"127.0.0.1:1\"\n",
      "b", {});
  CapturedLog log(LogFormat::json);
  auto running = before;
  int applied = 0;
  REQUIRE(reload_config([&] { return next; }, running,
                        [&](const DaemonConfig& given) {
                          ++applied;
                          CHECK(&given == &running);
                        }));
  CHECK(applied == 1);

  const auto old_values = describe_config(before);
  const auto new_values = describe_config(next);
  const auto now_values = describe_config(running);
  std::set<std::string> seen;
  for (const auto& [section, keys] : now_values.items()) {
    for (const auto& [name, value] : keys.items()) {
      const std::string key = section + "." + name;
      seen.insert(key);
      INFO(key);
      REQUIRE(old_values[section][name] != new_values[section][name]);
      if (reloadable.count(key) != 0) {
        CHECK(value == new_values[section][name]);
        CHECK_FALSE(logged(log, R"("key":")" + key + "\""));
      } else {
        CHECK(value == old_values[section][name]);
        CHECK(logged(log, R"(only after a restart","key":")" + key + "\""));
      }
    }
  }
  CHECK(std::includes(seen.begin(), seen.end(), reloadable.begin(), reloadable.end()));
  CHECK(logged(log, "configuration reloaded"));
}

TEST_CASE("stopping waits its grace, then abandons what hangs", "[app][supervisor]") {
  int abandoned = 0;
  stop_within_grace([] {}, 10s, [&] { ++abandoned; });
  CHECK(abandoned == 0);

  std::promise<void> given_up;
  auto hanging = given_up.get_future();
  const auto start = std::chrono::steady_clock::now();
  stop_within_grace([&] { hanging.wait(); }, 50ms,
                    [&] {
                      ++abandoned;
                      given_up.set_value();
                    });
  CHECK(abandoned == 1);
  CHECK(std::chrono::steady_clock::now() - start >= 50ms);
}
