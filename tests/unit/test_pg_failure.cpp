// Database errors are classified by SQLSTATE in one place: what goes away by
// itself is transient, the rest is permanent for the export it concerns.
#include <catch2/catch.hpp>

#include <pqxx/pqxx>

#include "adapters/postgres/pg_failure.h"

using namespace exportd;

namespace {

FailureKind kind_of_state(const char* sqlstate) {
  return pg_failure(pqxx::sql_error("server said no", "SELECT 1", sqlstate)).kind();
}

}  // namespace

TEST_CASE("conditions of the server or the session are transient", "[postgres][failure]") {
  for (const char* state : {"08000", "08003", "08006", "08001", "57P01", "57P02", "57P03", "57014",
                            "40001", "40P01", "53000", "53100", "53200", "53300"}) {
    INFO("SQLSTATE " << state);
    CHECK(kind_of_state(state) == FailureKind::transient);
  }
  CHECK(pg_failure(pqxx::broken_connection("connection lost")).kind() == FailureKind::transient);
  CHECK(pg_failure(pqxx::in_doubt_error("commit lost")).kind() == FailureKind::transient);
  CHECK(pg_failure(pqxx::serialization_failure("retry")).kind() == FailureKind::transient);
  CHECK(pg_failure(pqxx::deadlock_detected("retry")).kind() == FailureKind::transient);
  CHECK(pg_failure(pqxx::statement_completion_unknown("lost")).kind() == FailureKind::transient);
  // libpq's own errors (no SQLSTATE) are about the connection.
  CHECK(kind_of_state(nullptr) == FailureKind::transient);
}

TEST_CASE("errors that will not go away by themselves are permanent", "[postgres][failure]") {
  for (const char* state : {"23514", "23505", "23502", "42703", "42601", "42P01", "42501", "22P05",
                            "22P02", "P0001", "0A000", "57P04", "XX000"}) {
    INFO("SQLSTATE " << state);
    CHECK(kind_of_state(state) == FailureKind::permanent);
  }
  CHECK(pg_failure(pqxx::conversion_error("not a number")).kind() == FailureKind::permanent);
  CHECK(pg_failure(pqxx::usage_error("misused")).kind() == FailureKind::permanent);
}

TEST_CASE("a database failure names the SQLSTATE and the server's words", "[postgres][failure]") {
  const auto failure = pg_failure(pqxx::check_violation(
      "ERROR:  export x cannot go from SENT to PENDING\n", "UPDATE erp_exports", "23514"));
  CHECK(std::string(failure.what()) ==
        "database error (SQLSTATE 23514): export x cannot go from SENT to PENDING");
  CHECK_THAT(pg_failure(pqxx::broken_connection("server closed the connection\n")).what(),
             Catch::Equals("cannot connect to the database: server closed the connection"));
  CHECK_THAT(pg_failure(pqxx::broken_connection("refused\n\tIs the server running?\n")).what(),
             Catch::Equals("cannot connect to the database: refused; Is the server running?"));
}
