// The one place where a database error becomes a Failure. Classified by
// SQLSTATE: what goes away by itself (a lost or refused connection, a server
// shutting down, a statement timeout, a serialization failure or deadlock,
// exhausted resources, a commit in doubt) is transient; everything else (a
// state rule, a constraint, an undefined column, a syntax error) will fail
// the same way next time and is permanent for the export it concerns.
#pragma once

#include <pqxx/pqxx>

#include "domain/failure.h"

namespace exportd {

Failure pg_failure(const pqxx::pqxx_exception& error);

}  // namespace exportd
