// Runs the built orderflow-exportd with a generated configuration, a temp
// dropzone root and its log in a file.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "tests/support/files.h"
#include "tests/support/process.h"

namespace exportd::testing {

struct CliResult {
  int status;
  std::string out;
  std::string err;
};

// Runs the binary once with `args`, optionally feeding it `stdin_text`.
inline CliResult run_cli(std::vector<std::string> args, std::map<std::string, std::string> env = {},
                         const std::string& stdin_text = "") {
  const std::string dir = make_temp_dir("exportd-cli");
  std::ofstream(dir + "/in") << stdin_text;
  args.insert(args.begin(), EXPORTD_BINARY);
  const int status = run({.argv = args,
                          .env = std::move(env),
                          .stdout_path = dir + "/out",
                          .stderr_path = dir + "/err",
                          .stdin_path = dir + "/in"});
  CliResult r{status, slurp(dir + "/out"), slurp(dir + "/err")};
  std::filesystem::remove_all(dir);
  return r;
}

class DaemonHarness {
 public:
  // `export_settings` are extra lines for the [export] table, `sections`
  // whole extra tables. Metrics are off unless `sections` has [metrics]:
  // daemons run side by side.
  DaemonHarness(const std::string& database_url, const std::string& export_settings,
                const std::string& sections = "")
      : dir_(make_temp_dir("exportd-e2e")) {
    std::filesystem::create_directories(root());
    std::ofstream(config_path()) << "[database]\nurl = \"" << database_url << "\"\n"
                                 << "[export]\nworkers = 4\nfilesystem_roots = [\"" << root()
                                 << "\"]\n"
                                 << export_settings << sections
                                 << (sections.find("[metrics]") == std::string::npos
                                         ? "[metrics]\nlisten = \"\"\n"
                                         : "")
                                 // Last, so a test can append [log] keys.
                                 << "[log]\nformat = \"json\"\n";
  }
  ~DaemonHarness() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string root() const { return dir_ + "/dropzone"; }
  std::string config_path() const { return dir_ + "/exportd.toml"; }
  std::string log_path() const { return dir_ + "/daemon.log"; }
  std::string dir() const { return dir_; }

  Process start(std::map<std::string, std::string> env = {}) const {
    return Process({.argv = {EXPORTD_BINARY, "run", "--config", config_path()},
                    .env = std::move(env),
                    .stderr_path = log_path()});
  }

 private:
  std::string dir_;
};

}  // namespace exportd::testing
