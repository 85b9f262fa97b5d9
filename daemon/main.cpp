// orderflow-exportd: command line entry. Parses arguments, maps every
// failure to one sentence on stderr and the documented exit code.
#include <iostream>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "domain/failure.h"
#include "version.h"

namespace {

int exit_code_for(exportd::FailureKind kind) {
  using exportd::FailureKind;
  switch (kind) {
    case FailureKind::bad_config:
      return exportd::cli::kBadConfig;
    case FailureKind::refused:
      return exportd::cli::kRefused;
    default:
      return exportd::cli::kRuntimeFailure;
  }
}

}  // namespace

int main(int argc, char** argv) {
  namespace cli = exportd::cli;
  CLI::App app{"orderflow-exportd: delivers approved sales orders to ERP dropzones"};
  app.set_version_flag("--version", std::string("orderflow-exportd ") + EXPORTD_VERSION);
  app.require_subcommand(1);
  std::string config_path = "/etc/orderflow-exportd/exportd.toml";
  app.add_option("--config", config_path, "configuration file")->capture_default_str();

  auto* run = app.add_subcommand("run", "run the daemon until SIGTERM/SIGINT");
  auto* migrate = app.add_subcommand("migrate", "apply pending database migrations");
  auto* check = app.add_subcommand("check-config", "validate and print the configuration");
  for (auto* sub : {run, migrate, check}) {
    sub->add_option("--config", config_path, "configuration file");
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : cli::kBadConfig;
  }
  const bool config_given = app.count("--config") > 0 || run->count("--config") > 0 ||
                            migrate->count("--config") > 0 || check->count("--config") > 0;
  try {
    if (*run) {
      return cli::run_daemon(config_path, config_given);
    }
    const auto config = cli::load_config(config_path, config_given);
    if (*migrate) {
      return cli::migrate(config);
    }
    return cli::check_config(config);
  } catch (const exportd::Failure& e) {
    std::cerr << "orderflow-exportd: " << e.what() << "\n";
    return exit_code_for(e.kind());
  } catch (const std::exception& e) {
    std::cerr << "orderflow-exportd: " << e.what() << "\n";
    return cli::kRuntimeFailure;
  }
}
