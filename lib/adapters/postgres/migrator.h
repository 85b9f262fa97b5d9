// Applies migrations/NNNN_*.sql in order, each once, recorded in
// exportd_schema_migrations. Safe to run concurrently: one advisory lock
// serialises runners, and the whole run is one transaction.
#pragma once

#include <string>
#include <vector>

namespace exportd {

// Returns the names applied by this call (empty when already up to date).
// Throws Failure(transient) when the database is unreachable and
// Failure(bad_config) when a migration file fails.
std::vector<std::string> apply_migrations(const std::string& database_url,
                                          const std::string& migrations_dir);

}  // namespace exportd
