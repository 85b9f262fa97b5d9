// Wiring of each subcommand: builds the adapters from the configuration and
// hands them to the use cases in lib/app; `run` hands them to ServiceSupervisor.
#include "commands.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "adapters/filesystem/filesystem_dropzone.h"
#include "adapters/postgres/migrator.h"
#include "adapters/postgres/pg_ack_deadlines.h"
#include "adapters/postgres/pg_ack_store.h"
#include "adapters/postgres/pg_circuit_log.h"
#include "adapters/postgres/pg_connection_store.h"
#include "adapters/postgres/pg_draft_store.h"
#include "adapters/postgres/pg_export_history.h"
#include "adapters/postgres/pg_export_queue.h"
#include "adapters/postgres/pg_queue_stats.h"
#include "adapters/postgres/pg_retention_store.h"
#include "adapters/postgres/pg_session.h"
#include "adapters/postgres/pg_wakeup_listener.h"
#include "adapters/prometheus/metrics_endpoint.h"
#include "adapters/prometheus/prometheus_metrics.h"
#include "adapters/redis/redis_idempotency_store.h"
#include "adapters/sftp/sftp_dropzone.h"
#include "adapters/socket_deadlines.h"
#include "adapters/systemd/sd_notifier.h"
#include "app/ack_deadline_sweeper.h"
#include "app/ack_poller.h"
#include "app/circuit_publisher.h"
#include "app/config_reload.h"
#include "app/connection_admin.h"
#include "app/connection_health.h"
#include "app/database_probe.h"
#include "app/dropzone_cache.h"
#include "app/export_show.h"
#include "app/export_worker_pool.h"
#include "app/resend.h"
#include "app/retention.h"
#include "app/retention_schedule.h"
#include "app/secret_box.h"
#include "app/service_status.h"
#include "app/service_supervisor.h"
#include "app/status_report.h"
#include "domain/connection_settings.h"
#include "domain/failure.h"
#include "logging/logging.h"
#include "version.h"

namespace exportd::cli {

namespace {

std::string lease_owner_prefix() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(::getpid());
}

WorkerPoolOptions pool_options(const DaemonConfig& config) {
  return {.workers = config.export_workers,
          .batch_size = static_cast<size_t>(config.export_batch_size),
          .poll_interval = std::chrono::seconds(config.export_poll_interval_s),
          .lease = std::chrono::seconds(config.export_lease_s),
          .max_sessions_per_connection = config.export_max_sessions_per_connection,
          .retry = {.max_attempts = config.export_max_attempts,
                    .initial_backoff = std::chrono::seconds(config.export_retry_backoff_s),
                    .max_backoff = std::chrono::seconds(config.export_retry_backoff_max_s)},
          .exporter = std::string("orderflow-exportd ") + EXPORTD_VERSION};
}

// The supervisor's events from the signals this thread takes.
ServiceEvent next_signal(const sigset_t& signals, std::chrono::microseconds timeout) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  const timespec wait{seconds.count(),
                      static_cast<long>(std::chrono::nanoseconds(timeout - seconds).count())};
  switch (sigtimedwait(&signals, nullptr, &wait)) {
    case SIGTERM:
      return {ServiceEvent::Kind::stop, "SIGTERM"};
    case SIGINT:
      return {ServiceEvent::Kind::stop, "SIGINT"};
    case SIGHUP:
      return {ServiceEvent::Kind::reload, "SIGHUP"};
    default:
      return {};
  }
}

// What a one-shot command reaches dropzones through: the local filesystem,
// and one SSH connection at a time.
struct CommandDropzones {
  explicit CommandDropzones(const DaemonConfig& config)
      : filesystem(config.filesystem_roots),
        cache(filesystem, remote_dropzones(config, deadlines), secret_opener(config), 1) {}
  FilesystemDropzone filesystem;
  SocketDeadlines deadlines;
  DropzoneCache cache;
};

}  // namespace

DropzoneCache::RemoteFactory remote_dropzones(const DaemonConfig& config,
                                              SocketDeadlines& deadlines) {
  return [&config, &deadlines](const ConnectionSettings& settings) {
    return std::make_unique<SftpDropzone>(
        settings,
        SftpOptions{.known_hosts_path = config.sftp_known_hosts,
                    .operation_timeout = std::chrono::seconds(config.sftp_operation_timeout_s)},
        deadlines);
  };
}

SecretOpener secret_opener(const DaemonConfig& config) {
  return secret_opener_on_first_use(secret_key_path(config.secrets_key_file));
}

std::string migrations_dir() {
  if (const char* dir = std::getenv("EXPORTD_MIGRATIONS_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  // An installed binary uses the installed files; a build tree its sources.
  if (std::filesystem::is_directory(EXPORTD_MIGRATIONS_DIR)) {
    return EXPORTD_MIGRATIONS_DIR;
  }
  return EXPORTD_SOURCE_MIGRATIONS_DIR;
}

DaemonConfig load_config(const std::string& path, bool path_given) {
  const auto env = EnvironmentOverrides::from_process();
  if (!path_given && !std::filesystem::exists(path)) {
    return parse_daemon_config("", path, env);
  }
  return load_daemon_config(path, env);
}

int migrate(const DaemonConfig& config) {
  const auto applied = apply_migrations(config.database_url, migrations_dir());
  for (const auto& name : applied) {
    log_event(Level::info, "migration applied", {{"migration", name}});
  }
  std::cout << (applied.empty() ? "database is up to date"
                                : "applied " + std::to_string(applied.size()) + " migration(s)")
            << "\n";
  return kOk;
}

int check_config(const DaemonConfig& config) {
  std::cout << describe_config(config).dump(2) << "\n";
  return kOk;
}

int connection_set(const DaemonConfig& config, const std::string& org_slug, const std::string& file,
                   bool password_stdin) {
  std::ifstream in(file);
  if (!in) {
    throw Failure(FailureKind::bad_config, "cannot read '" + file + "'");
  }
  ConnectionSetRequest request{.org_slug = org_slug,
                               .config_json = std::string(std::istreambuf_iterator<char>(in), {}),
                               .source = file};
  if (password_stdin) {
    std::string secret((std::istreambuf_iterator<char>(std::cin)), {});
    // One final line break is the terminal's or echo's, not the password's.
    if (secret.ends_with("\n")) {
      secret.pop_back();
      if (secret.ends_with("\r")) {
        secret.pop_back();
      }
    }
    request.secret = std::move(secret);
  }
  std::unique_ptr<SecretBox> box;
  PgConnectionStore store(config.database_url);
  std::cout << set_connection(store, request, config.filesystem_roots, [&]() -> const SecretBox& {
    box = SecretBox::from_key_file(secret_key_path(config.secrets_key_file));
    return *box;
  }) << "\n";
  return kOk;
}

int connection_test(const DaemonConfig& config, const std::string& org_slug) {
  setup_logging(config.log_level, config.log_format);
  CommandDropzones dropzones(config);
  PgConnectionStore store(config.database_url);
  const auto report = test_connection(store, org_slug, dropzones.cache);
  for (const auto& step : report.steps) {
    std::cout << step << "\n";
  }
  if (!report.success) {
    std::cerr << "orderflow-exportd: connection test of '" << org_slug
              << "' failed: " << report.error << "\n";
    return kRuntimeFailure;
  }
  std::cout << "connection test of '" << org_slug << "' passed\n";
  return kOk;
}

int status(const DaemonConfig& config, bool json) {
  PgDraftStore drafts(config.database_url);
  const auto report = drafts.status_report();
  const auto now = std::chrono::system_clock::now();
  std::cout << (json ? status_report_json(report, now).dump() + "\n"
                     : status_report_text(report, now));
  return kOk;
}

int approve(const DaemonConfig& config, const std::string& draft_id, const std::string& actor) {
  PgDraftStore drafts(config.database_url);
  approve_draft(drafts, draft_id, actor);
  std::cout << "draft " << draft_id << " approved\n";
  return kOk;
}

int push(const DaemonConfig& config, const PushRequest& request) {
  PgDraftStore drafts(config.database_url);
  std::unique_ptr<RedisIdempotencyStore> redis;
  if (!config.redis_url.empty()) {
    redis = std::make_unique<RedisIdempotencyStore>(config.redis_url);
  }
  const auto result = push_draft(drafts, redis.get(), request,
                                 std::chrono::seconds(config.redis_idempotency_ttl_s));
  std::cout << result.export_id << "\n";
  return kOk;
}

int show(const DaemonConfig& config, const std::string& export_id, bool json) {
  PgExportHistory history(config.database_url);
  const auto story = show_export(history, export_id);
  std::cout << (json ? export_story_json(story).dump() + "\n" : export_story_text(story));
  return kOk;
}

int resend(const DaemonConfig& config, const std::string& export_id,
           const std::optional<std::string>& actor) {
  PgExportHistory history(config.database_url);
  const auto archive = open_archive(config);
  CommandDropzones dropzones(config);
  const auto result = resend_export(history, archive.get(), dropzones.cache, {export_id, actor});
  std::cout << (result.written
                    ? "export " + export_id + " resent as '" + result.path + "'"
                    : "'" + result.path + "' is still in the dropzone; nothing was written")
            << "\n";
  return kOk;
}

int prune(const DaemonConfig& config, bool dry_run, bool json) {
  CommandDropzones dropzones(config);
  PgRetentionStore store(config.database_url);
  const auto archive = open_archive(config);
  Retention retention(store, dropzones.cache, archive.get());
  const auto report = retention.run(config.retention, dry_run);
  std::cout << (json ? prune_report_json(report).dump() + "\n" : prune_report_text(report));
  if (!report.failures.empty()) {
    std::cerr << "orderflow-exportd: prune did not finish: " << report.failures.front() << "\n";
    return kRuntimeFailure;
  }
  return kOk;
}

int run_daemon(const std::string& config_path, bool config_path_given) {
  // Signals are taken synchronously by this thread; worker threads inherit
  // the mask, so no handler ever runs inside library code.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const DaemonConfig config = load_config(config_path, config_path_given);
  setup_logging(config.log_level, config.log_format);

  FilesystemDropzone filesystem(config.filesystem_roots);
  SocketDeadlines deadlines;
  DropzoneCache dropzones(filesystem, remote_dropzones(config, deadlines), secret_opener(config),
                          config.export_workers);
  PgQueueStats queue_stats(config.database_url);
  const AckPollerOptions ack_options{
      .poll_interval = std::chrono::seconds(config.ack_poll_interval_s),
      .max_file_bytes = static_cast<size_t>(config.ack_max_file_bytes)};
  // One connection per worker and per ack thread, the pool's lease keeper,
  // the wake-up listener, the ack deadline sweeper, retention and the
  // circuit publisher; queue_stats (metrics, /healthz) is already among
  // those in use. A database down at start-up is waited for, not refused.
  if (const auto spare = queue_stats.free_connections()) {
    check_database_capacity(config, config.export_workers + ack_options.threads + 5, *spare);
  }
  // Whoever asks whether the database answers reads this, never the database.
  DatabaseProbe database([&] { return queue_stats.pending(); }, std::chrono::seconds(1),
                         std::chrono::seconds(3));
  PrometheusMetrics metrics(queue_stats, EXPORTD_VERSION);
  const std::string owner = lease_owner_prefix();
  ConnectionHealth health(metrics);
  CircuitPublisher circuits(std::make_unique<PgCircuitLog>(config.database_url, owner));
  health.publish_to(circuits);
  circuits.start();
  const std::unique_ptr<Archive> archive = open_archive(config);
  WorkerPoolOptions worker_options = pool_options(config);
  worker_options.archive = archive.get();
  ExportWorkerPool pool(
      worker_options,
      [&](int index) {
        return std::make_unique<PgExportQueue>(config.database_url,
                                               owner + ":" + std::to_string(index));
      },
      [&](int worker, const ClaimedExport& item, const ConnectionSettings& settings) -> Dropzone& {
        return dropzones.get(worker, item.connection_id, settings, item.connection_secret);
      },
      health, metrics);
  pool.start();
  PgWakeupListener listener(config.database_url, [&] { pool.wake(); });
  DropzoneCache ack_dropzones(filesystem, remote_dropzones(config, deadlines),
                              secret_opener(config), ack_options.threads);
  AckPoller acks(
      ack_options, [&](int) { return std::make_unique<PgAckStore>(config.database_url); },
      ack_dropzones, metrics, health);
  acks.start();
  AckDeadlineSweeper ack_deadlines(std::make_unique<PgAckDeadlines>(config.database_url),
                                   std::chrono::seconds(config.ack_timeout_s));
  ack_deadlines.start();
  PgRetentionStore retention_store(config.database_url);
  DropzoneCache retention_dropzones(filesystem, remote_dropzones(config, deadlines),
                                    secret_opener(config), 1);
  Retention retention(retention_store, retention_dropzones, archive.get());
  RetentionSchedule housekeeping(retention, metrics, config.retention);
  housekeeping.start();
  log_event(
      Level::info, "daemon started",
      {{"version", EXPORTD_VERSION}, {"workers", config.export_workers}, {"pid", ::getpid()}});

  // This thread supervises: it takes the signals, tells the service manager
  // how things go, and feeds its watchdog only while the workers go round.
  DaemonConfig running = config;
  const auto reload = [&] {
    reload_config([&] { return load_config(config_path, config_path_given); }, running,
                  [&](const DaemonConfig& applied) {
                    const auto options = pool_options(applied);
                    pool.update(options.poll_interval, options.retry);
                    acks.update(std::chrono::seconds(applied.ack_poll_interval_s));
                    ack_deadlines.update(std::chrono::seconds(applied.ack_timeout_s));
                    housekeeping.update(applied.retention);
                  });
  };
  SdNotifier systemd;
  ServiceSupervisor supervisor(
      systemd, {.next_event = [&](auto timeout) { return next_signal(signals, timeout); },
                .now = [] { return std::chrono::steady_clock::now(); },
                .pending = [&] { return database.pending(); },
                .database_reachable = [&] { return database.reachable(); },
                .progressing = [&](auto max_silence) { return pool.progressing(max_silence); },
                .status_line =
                    [&](std::optional<long long> pending) {
                      return service_status_line(
                          pending, pool.delivered(), pool.last_delivery(),
                          std::chrono::system_clock::now(),
                          failing_endpoints_note(pool.workers_on_failing_endpoints(),
                                                 config.export_workers));
                    },
                .reload = reload});
  std::unique_ptr<MetricsEndpoint> endpoint;
  if (!config.metrics_listen.empty()) {
    // Metrics are never needed to deliver: without them the daemon goes on.
    try {
      endpoint = std::make_unique<MetricsEndpoint>(
          config.metrics_listen, [&] { return metrics.scrape(); },
          [&] { return supervisor.health_problem(); },
          [&] {
            return failing_endpoints_note(pool.workers_on_failing_endpoints(),
                                          config.export_workers);
          });
      log_event(Level::info, "metrics endpoint listening",
                {{"listen", config.metrics_listen}, {"port", endpoint->port()}});
    } catch (const Failure& e) {
      log_event(Level::error, "metrics endpoint unavailable; delivering without it",
                {{"error", e.what()}});
    }
  }
  supervisor.run();
  endpoint.reset();
  listener.stop();
  // A call hanging on a silent server must not hold up the exit.
  pool.request_stop();
  acks.request_stop();
  ack_deadlines.request_stop();
  housekeeping.request_stop();
  deadlines.abort_all();
  // A moment for the database calls in flight (a stopping worker releases
  // its claims); then calls hanging on a database that stopped answering
  // are abandoned: the leases keep their work safe.
  stop_within_grace(
      [&] {
        pool.stop();
        acks.stop();
        ack_deadlines.stop();
        housekeeping.stop();
        circuits.stop();  // the states the last deliveries left
      },
      std::chrono::seconds(3), pg_abort_all);
  pg_abort_all();  // the listener's and the probe's last calls need no answer
  log_event(Level::info, "daemon stopped", {{"delivered", pool.delivered()}});
  return kOk;
}

}  // namespace exportd::cli
