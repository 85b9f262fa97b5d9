// orderflow-exportd: command line entry. Parses arguments, maps every
// failure to one sentence on stderr and the documented exit code.
#include <iostream>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "domain/failure.h"
#include "logging/logging.h"
#include "version.h"

namespace {

// Every --help page ends with the exit codes (docs/orderflow-exportd.8.md).
constexpr const char* kExitStatusHelp =
    "Exit status: 0 success, 1 runtime failure (database, dropzone or network), 2 bad usage or\n"
    "configuration, 3 refused by a state rule (e.g. a draft that is not in the required state).\n"
    "EXPORTD_DATABASE_URL and EXPORTD_REDIS_URL override the configuration file.";

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
  auto* connection = app.add_subcommand("connection", "manage an org's ERP connection");
  connection->require_subcommand(1);
  std::string org_slug, settings_file;
  bool password_stdin = false;
  auto* connection_set =
      connection->add_subcommand("set", "validate and store an org's connection settings");
  connection_set->add_option("ORG_SLUG", org_slug, "the org")->required();
  connection_set->add_option("FILE", settings_file, "settings as JSON")->required();
  connection_set->add_flag("--password-stdin", password_stdin,
                           "read the password (or key passphrase) from stdin");
  auto* connection_test =
      connection->add_subcommand("test", "probe an org's dropzone and record the result");
  connection_test->add_option("ORG_SLUG", org_slug, "the org")->required();

  bool json = false;
  auto* status = app.add_subcommand("status", "queue depth, oldest PENDING, failures, ack polls");
  status->add_flag("--json", json, "print one JSON object");
  std::string draft_id, actor, idempotency;
  auto* approve = app.add_subcommand("approve", "READY -> APPROVED");
  approve->add_option("DRAFT_ID", draft_id, "the draft")->required();
  approve->add_option("--actor", actor, "the approving user's id")->required();
  auto* push = app.add_subcommand("push", "APPROVED -> PUSHING and a new PENDING export");
  auto* retry = app.add_subcommand("retry", "ERROR -> PUSHING and a new PENDING export");
  for (auto* sub : {push, retry}) {
    sub->add_option("DRAFT_ID", draft_id, "the draft")->required();
    sub->add_option("--actor", actor, "the requesting user's id");
    sub->add_option("--idempotency-key", idempotency, "repeat-safe: the same key, the same export");
  }

  bool dry_run = false;
  auto* prune = app.add_subcommand("prune", "apply [retention] once and print what it removed");
  prune->add_flag("--dry-run", dry_run, "count what would be removed; change nothing");
  prune->add_flag("--json", json, "print one JSON object");

  std::string export_id;
  auto* show = app.add_subcommand("show", "an export's whole story: file, failures, acks, audit");
  show->add_option("EXPORT_ID", export_id, "the export")->required();
  show->add_flag("--json", json, "print one JSON object");
  auto* resend = app.add_subcommand("resend", "write a SENT or ACKED export's archived file again");
  resend->add_option("EXPORT_ID", export_id, "the export")->required();
  resend->add_option("--actor", actor, "the requesting user's id");

  const std::vector<CLI::App*> subcommands{run,    migrate, check, connection_set, connection_test,
                                           status, approve, push,  retry,          show,
                                           resend, prune};
  for (auto* sub : subcommands) {
    sub->add_option("--config", config_path, "configuration file");
  }
  for (auto* help_page : {&app, connection, run, migrate, check, connection_set, connection_test,
                          status, approve, push, retry, show, resend, prune}) {
    help_page->footer(kExitStatusHelp);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : cli::kBadConfig;
  }
  bool config_given = app.count("--config") > 0;
  for (const auto* sub : subcommands) {
    config_given = config_given || sub->count("--config") > 0;
  }
  try {
    if (*run) {
      return cli::run_daemon(config_path, config_given);
    }
    const auto config = cli::load_config(config_path, config_given);
    // Warnings go to stderr; stdout carries only the command's answer.
    exportd::setup_logging(config.log_level, config.log_format);
    if (*migrate) {
      return cli::migrate(config);
    }
    if (*connection_set) {
      return cli::connection_set(config, org_slug, settings_file, password_stdin);
    }
    if (*connection_test) {
      return cli::connection_test(config, org_slug);
    }
    if (*status) {
      return cli::status(config, json);
    }
    if (*prune) {
      return cli::prune(config, dry_run, json);
    }
    if (*approve) {
      return cli::approve(config, draft_id, actor);
    }
    if (*show) {
      return cli::show(config, export_id, json);
    }
    if (*resend) {
      return cli::resend(config, export_id,
                         actor.empty() ? std::nullopt : std::optional<std::string>(actor));
    }
    if (*push || *retry) {
      exportd::PushRequest request{
          .draft_id = draft_id,
          .from = *push ? exportd::DraftStatus::approved : exportd::DraftStatus::error};
      if (!actor.empty()) {
        request.actor = actor;
      }
      if (!idempotency.empty()) {
        request.idempotency_key = idempotency;
      }
      return cli::push(config, request);
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
