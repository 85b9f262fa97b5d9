// Runs the built orderflow-exportd with a generated configuration, a temp
// dropzone root and its log in a file.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/process.h"

namespace exportd::testing {

class DaemonHarness {
 public:
  // `export_settings` are extra lines for the [export] table.
  DaemonHarness(const std::string& database_url, const std::string& export_settings)
      : dir_(make_temp_dir("exportd-e2e")) {
    std::filesystem::create_directories(root());
    std::ofstream(config_path()) << "[database]\nurl = \"" << database_url << "\"\n"
                                 << "[export]\nworkers = 4\nfilesystem_roots = [\"" << root()
                                 << "\"]\n"
                                 << export_settings << "[log]\nformat = \"json\"\n";
  }
  ~DaemonHarness() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string root() const { return dir_ + "/dropzone"; }
  std::string config_path() const { return dir_ + "/exportd.toml"; }
  std::string log_path() const { return dir_ + "/daemon.log"; }

  Process start() const {
    return Process(
        {.argv = {EXPORTD_BINARY, "run", "--config", config_path()}, .stderr_path = log_path()});
  }

 private:
  std::string dir_;
};

}  // namespace exportd::testing
