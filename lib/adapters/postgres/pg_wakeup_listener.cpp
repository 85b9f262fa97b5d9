// The listener's thread: LISTEN, wait for notifications with a bounded wait,
// and LISTEN again on a new connection after a database restart.
#include "adapters/postgres/pg_wakeup_listener.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <pqxx/pqxx>

#include "adapters/postgres/pg_session.h"
#include "logging/logging.h"

namespace exportd {

namespace {

constexpr const char* kChannel = "erp_exports_pending";

class Receiver : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& conn, std::function<void()>& on_wakeup)
      : pqxx::notification_receiver(conn, kChannel), on_wakeup_(on_wakeup) {}
  void operator()(const std::string&, int) override { on_wakeup_(); }

 private:
  std::function<void()>& on_wakeup_;
};

}  // namespace

PgWakeupListener::PgWakeupListener(std::string database_url, std::function<void()> on_wakeup)
    : database_url_(std::move(database_url)),
      on_wakeup_(std::move(on_wakeup)),
      stop_fd_(::eventfd(0, EFD_CLOEXEC)) {
  thread_ = std::thread([this] { run(); });
}

PgWakeupListener::~PgWakeupListener() {
  stop();
  if (thread_.joinable()) {
    thread_.join();
  }
  ::close(stop_fd_);
}

void PgWakeupListener::stop() {
  stopping_ = true;
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(stop_fd_, &one, sizeof one);
}

bool PgWakeupListener::wait_readable(int fd, int ms) {
  pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {fd, POLLIN, 0}};
  ::poll(fds, fd >= 0 ? 2 : 1, ms);
  return !stopping_;
}

void PgWakeupListener::run() {
  int backoff_ms = 100;
  bool lost = false;
  while (!stopping_) {
    try {
      // Waiting for a notification is no statement: the statement timeout
      // never ends it, keepalives watch the idle connection.
      const auto connection = pg_connect(database_url_);
      pqxx::connection& conn = *connection;
      // Only pg_abort_all ends this one: the UNLISTEN on the way out must not
      // hang on a server that stopped answering.
      const auto session = pg_deadline(conn, std::chrono::hours(24 * 365));
      std::unique_ptr<Receiver> receiver;
      {
        const auto listen = pg_deadline(conn, pg_call_deadline());
        receiver = std::make_unique<Receiver>(conn, on_wakeup_);
        conn.get_notifs();  // sends the LISTEN
      }
      if (lost) {
        log_event(Level::info, "listener reconnected", {});
      }
      // Work queued before this LISTEN sent no notification we could hear.
      on_wakeup_();
      lost = false;
      backoff_ms = 100;
      while (wait_readable(conn.sock(), 60000)) {
        conn.get_notifs();
      }
    } catch (const std::exception& e) {
      if (!lost) {
        log_event(Level::warn, "listener lost the database", {{"error", e.what()}});
      }
      lost = true;
      wait_readable(-1, backoff_ms);
      backoff_ms = std::min(backoff_ms * 2, 5000);
    }
  }
}

}  // namespace exportd
