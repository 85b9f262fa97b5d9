// The SQLSTATE classes and libpqxx exception types, mapped to failure kinds.
#include "adapters/postgres/pg_failure.h"

#include <string>
#include <string_view>

namespace exportd {

namespace {

// libpq's messages start with a severity and end with a line break; the
// message of a Failure is one line.
std::string server_words(std::string_view message) {
  constexpr std::string_view kSeverity = "ERROR:  ";
  if (message.starts_with(kSeverity)) {
    message.remove_prefix(kSeverity.size());
  }
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.remove_suffix(1);
  }
  std::string out;
  for (size_t i = 0; i < message.size(); ++i) {
    if (message[i] != '\n') {
      out += message[i];
      continue;
    }
    out += "; ";
    while (i + 1 < message.size() && (message[i + 1] == ' ' || message[i + 1] == '\t')) {
      ++i;
    }
  }
  return out;
}

bool transient_state(const std::string& sqlstate) {
  // Without a SQLSTATE the error is libpq's own: the connection's trouble.
  return sqlstate.empty() || sqlstate.starts_with("08") || sqlstate.starts_with("53") ||
         sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03" || sqlstate == "57014" ||
         sqlstate.starts_with("40");
}

}  // namespace

Failure pg_failure(const pqxx::pqxx_exception& error) {
  const std::exception& base = error.base();
  const std::string words = server_words(base.what());
  if (dynamic_cast<const pqxx::broken_connection*>(&base) != nullptr) {
    return Failure(FailureKind::transient, "cannot connect to the database: " + words);
  }
  if (dynamic_cast<const pqxx::in_doubt_error*>(&base) != nullptr) {
    // Leases and fencing make a retry safe whether or not the commit happened.
    return Failure(FailureKind::transient, "database commit in doubt: " + words);
  }
  if (dynamic_cast<const pqxx::transaction_rollback*>(&base) != nullptr) {
    return Failure(FailureKind::transient, "database transaction rolled back: " + words);
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&base)) {
    const std::string& state = sql->sqlstate();
    return Failure(
        transient_state(state) ? FailureKind::transient : FailureKind::permanent,
        "database error" + (state.empty() ? "" : " (SQLSTATE " + state + ")") + ": " + words);
  }
  return Failure(FailureKind::permanent, "database error: " + words);
}

}  // namespace exportd
