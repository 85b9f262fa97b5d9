// Every connection to the database is opened and bounded here. A database
// that accepts TCP but never answers (a frozen server) is noticed only by a
// deadline of our own: libpq's connect_timeout bounds the opening, a watcher
// shuts the socket down when a call outlives its deadline, and at shutdown
// every socket at once. The server's statement_timeout ends slow statements
// on a live server without losing the connection; TCP keepalives and
// tcp_user_timeout notice a peer that is gone.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <pqxx/pqxx>

#include "adapters/socket_deadlines.h"

namespace exportd {

struct PgTimeouts {
  std::chrono::seconds connect{5};
  std::chrono::milliseconds statement{30000};
};

// `database_url` (URI or keyword=value form) as a keyword=value string with
// the deadlines added where neither the URL nor the PG* environment sets
// them. A URL libpq cannot parse is returned as it is, for libpq to refuse.
std::string pg_conninfo(const std::string& database_url, const PgTimeouts& timeouts = {});

// Opens a connection with pg_conninfo. Once pg_abort_all ran, it throws
// Failure(transient) at once instead.
std::unique_ptr<pqxx::connection> pg_connect(const std::string& database_url,
                                             const PgTimeouts& timeouts = {});

// What runs on `conn` while the guard lives is bounded by `timeout`: past
// it, the socket is shut down and the call fails as a lost connection. The
// guard must be gone before the connection is closed.
SocketDeadlines::Guard pg_deadline(pqxx::connection_base& conn, std::chrono::milliseconds timeout);

// The deadline of a call under `timeouts`: past the server's own statement
// timeout, which fires first when the server can still answer.
std::chrono::milliseconds pg_call_deadline(const PgTimeouts& timeouts = {});

// The process is stopping: every database call in flight fails now, and
// every later one at once. Leases keep the work they held safe.
void pg_abort_all();

}  // namespace exportd
