// Connection strings merged with libpq's own parser, so nothing the operator
// set is overridden; one deadline watcher for every database socket.
#include "adapters/postgres/pg_session.h"

#include <libpq-fe.h>

#include <atomic>
#include <cstdlib>
#include <map>

#include "domain/failure.h"

namespace exportd {

namespace {

std::atomic<bool> aborted{false};

// One watcher for every database socket of the process.
SocketDeadlines& deadlines() {
  static SocketDeadlines instance;
  return instance;
}

std::string conninfo_value(const std::string& value) {
  std::string out = "'";
  for (const char ch : value) {
    if (ch == '\\' || ch == '\'') {
      out += '\\';
    }
    out += ch;
  }
  return out + "'";
}

}  // namespace

std::string pg_conninfo(const std::string& database_url, const PgTimeouts& timeouts) {
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(database_url.c_str(), &error);
  if (parsed == nullptr) {
    PQfreemem(error);
    return database_url;
  }
  const std::map<std::string, std::string> defaults = {
      {"connect_timeout", std::to_string(timeouts.connect.count())},
      {"keepalives", "1"},
      {"keepalives_idle", "10"},
      {"keepalives_interval", "5"},
      {"keepalives_count", "3"},
      // Unacknowledged data for this long: the peer is gone.
      {"tcp_user_timeout", "30000"}};
  const std::string statement_timeout =
      "-c statement_timeout=" + std::to_string(timeouts.statement.count());
  std::string conninfo;
  for (const PQconninfoOption* option = parsed; option->keyword != nullptr; ++option) {
    const std::string keyword = option->keyword;
    const bool from_environment = option->envvar != nullptr && std::getenv(option->envvar);
    std::string value;
    if (option->val != nullptr) {
      value = option->val;
    } else if (const auto it = defaults.find(keyword); !from_environment && it != defaults.end()) {
      value = it->second;
    } else if (from_environment || keyword != "options") {
      continue;  // libpq reads it from the environment, or there is nothing to add
    }
    if (keyword == "options" && value.find("statement_timeout") == std::string::npos) {
      value += (value.empty() ? "" : " ") + statement_timeout;
    }
    conninfo += (conninfo.empty() ? "" : " ") + keyword + "=" + conninfo_value(value);
  }
  PQconninfoFree(parsed);
  return conninfo;
}

std::unique_ptr<pqxx::connection> pg_connect(const std::string& database_url,
                                             const PgTimeouts& timeouts) {
  if (aborted) {
    throw Failure(FailureKind::transient, "database calls are aborted: the daemon is stopping");
  }
  return std::make_unique<pqxx::connection>(pg_conninfo(database_url, timeouts));
}

SocketDeadlines::Guard pg_deadline(pqxx::connection_base& conn, std::chrono::milliseconds timeout) {
  return deadlines().arm(conn.sock(), timeout);
}

std::chrono::milliseconds pg_call_deadline(const PgTimeouts& timeouts) {
  return timeouts.statement + std::chrono::seconds(2);
}

void pg_abort_all() {
  aborted = true;
  deadlines().abort_all();
}

}  // namespace exportd
