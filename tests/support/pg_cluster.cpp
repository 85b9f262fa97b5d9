#include "tests/support/pg_cluster.h"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>
#include <stdexcept>

#include "adapters/postgres/migrator.h"
#include "tests/support/process.h"

namespace exportd::testing {

namespace {

std::string find_bin_dir() {
  std::string best;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql")) {
    if (std::filesystem::exists(entry.path() / "bin" / "initdb") && entry.path().string() > best) {
      best = entry.path().string();
    }
  }
  if (best.empty()) {
    throw std::runtime_error("no PostgreSQL server found under /usr/lib/postgresql");
  }
  return best + "/bin";
}

}  // namespace

PgCluster::PgCluster() : bin_dir_(find_bin_dir()), data_dir_(make_temp_dir("exportd-pg")) {
  if (::geteuid() == 0) {
    run_as_ = "postgres";
    const passwd* user = ::getpwnam("postgres");
    if (user == nullptr || ::chown(data_dir_.c_str(), user->pw_uid, user->pw_gid) != 0) {
      throw std::runtime_error("running as root needs the 'postgres' user to own " + data_dir_);
    }
  }
  port_ = free_port();
  const int status = run({.argv = {bin("initdb"), "-D", data_dir_ + "/data", "-U", "postgres", "-A",
                                   "trust", "--no-sync", "-E", "UTF8", "--locale=C"},
                          .run_as_user = run_as_,
                          .stdout_path = "/dev/null"});
  if (status != 0) {
    throw std::runtime_error("initdb failed with status " + std::to_string(status));
  }
  start();
}

PgCluster::~PgCluster() {
  stop();
  std::error_code ec;
  std::filesystem::remove_all(data_dir_, ec);
}

std::string PgCluster::bin(const std::string& tool) const {
  return bin_dir_ + "/" + tool;
}

void PgCluster::start() {
  // fsync=off: the tests prove our own fsyncs, not Postgres's.
  const std::string options = "-p " + std::to_string(port_) + " -k " + data_dir_ +
                              " -c listen_addresses=127.0.0.1 -c fsync=off" +
                              " -c max_connections=200";
  const int status = run({.argv = {bin("pg_ctl"), "-D", data_dir_ + "/data", "-o", options, "-l",
                                   data_dir_ + "/server.log", "-w", "-t", "60", "start"},
                          .run_as_user = run_as_,
                          .stdout_path = "/dev/null"});
  if (status != 0) {
    throw std::runtime_error("pg_ctl start failed; see " + data_dir_ + "/server.log");
  }
}

void PgCluster::stop() {
  run({.argv = {bin("pg_ctl"), "-D", data_dir_ + "/data", "-m", "immediate", "-w", "stop"},
       .run_as_user = run_as_,
       .stdout_path = "/dev/null",
       .stderr_path = "/dev/null"});
}

void PgCluster::freeze() {
  std::ifstream pid_file(data_dir_ + "/data/postmaster.pid");
  int postmaster = 0;
  if (!(pid_file >> postmaster) || ::kill(postmaster, SIGSTOP) != 0) {
    throw std::runtime_error("cannot stop the postmaster of " + data_dir_);
  }
  // Stopped first, so it forks no backend we would miss.
  frozen_ = {postmaster};
  for (const int child : children_of(postmaster)) {
    if (::kill(child, SIGSTOP) == 0) {
      frozen_.push_back(child);
    }
  }
}

void PgCluster::thaw() {
  for (const int pid : frozen_) {
    ::kill(pid, SIGCONT);
  }
  frozen_.clear();
}

std::string PgCluster::url(const std::string& database) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string PgCluster::fresh_database() {
  const std::string name =
      "test_" + std::to_string(::getpid()) + "_" + std::to_string(++databases_);
  {
    pqxx::connection conn(url());
    pqxx::nontransaction tx(conn);
    tx.exec("CREATE DATABASE " + name);
  }
  apply_migrations(url(name), EXPORTD_SOURCE_MIGRATIONS_DIR);
  return url(name);
}

PgCluster& PgCluster::shared() {
  static PgCluster cluster;
  return cluster;
}

}  // namespace exportd::testing
