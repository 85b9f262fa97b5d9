// A throwaway PostgreSQL cluster for tests and benchmarks: initdb into a
// temp directory, a free loopback port, run as the `postgres` user when we
// are root (Postgres refuses to run as root), removed on destruction.
#pragma once

#include <string>
#include <vector>

namespace exportd::testing {

class PgCluster {
 public:
  PgCluster();
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  void start();
  void stop();  // immediate shutdown: connections drop like in a crash
  // SIGSTOPs the postmaster and every backend: the kernel still accepts
  // connections and acknowledges data, the server never answers.
  void freeze();
  void thaw();  // SIGCONTs what freeze stopped
  int port() const { return port_; }
  std::string url(const std::string& database = "postgres") const;

  // A new, empty database with the project's migrations applied.
  std::string fresh_database();

  // One cluster per test process, started on first use.
  static PgCluster& shared();

 private:
  std::string bin(const std::string& tool) const;

  std::string bin_dir_;
  std::string data_dir_;
  std::string run_as_;
  int port_ = 0;
  int databases_ = 0;
  std::vector<int> frozen_;
};

}  // namespace exportd::testing
