// Applies migrations/*.sql in order, each once, under an advisory lock, in one transaction.
#include "adapters/postgres/migrator.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <set>
#include <sstream>

#include "adapters/postgres/pg_failure.h"
#include "adapters/postgres/pg_session.h"
#include "domain/failure.h"

namespace exportd {

namespace {

// Arbitrary but fixed: every exportd process agrees on it.
constexpr long long kMigrationLockKey = 0x6578706f7274;

std::vector<std::filesystem::path> migration_files(const std::string& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".sql") {
      files.push_back(entry.path());
    }
  }
  if (ec) {
    throw Failure(FailureKind::bad_config,
                  "cannot read migrations directory '" + dir + "': " + ec.message());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

std::vector<std::string> apply_migrations(const std::string& database_url,
                                          const std::string& migrations_dir) {
  const auto files = migration_files(migrations_dir);
  std::vector<std::string> applied;
  try {
    // A migration may rightly take long: only the opening is bounded.
    const auto conn = pg_connect(database_url, {.statement = std::chrono::milliseconds(0)});
    pqxx::work tx(*conn);
    tx.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLockKey);
    tx.exec(
        "CREATE TABLE IF NOT EXISTS exportd_schema_migrations ("
        " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
    std::set<std::string> done;
    for (const auto& row : tx.exec("SELECT name FROM exportd_schema_migrations")) {
      done.insert(row["name"].as<std::string>());
    }
    for (const auto& file : files) {
      const std::string name = file.filename().string();
      if (done.contains(name)) {
        continue;
      }
      std::ifstream in(file);
      std::stringstream sql;
      sql << in.rdbuf();
      try {
        tx.exec(sql.str());
      } catch (const pqxx::pqxx_exception& e) {
        const Failure failure = pg_failure(e);
        // A server in trouble is not the migration's fault.
        throw Failure(
            failure.kind() == FailureKind::transient ? failure.kind() : FailureKind::bad_config,
            "migration '" + name + "' failed: " + failure.what());
      }
      tx.exec_params("INSERT INTO exportd_schema_migrations (name) VALUES ($1)", name);
      applied.push_back(name);
    }
    tx.commit();
  } catch (const pqxx::pqxx_exception& e) {
    throw pg_failure(e);
  }
  return applied;
}

}  // namespace exportd
