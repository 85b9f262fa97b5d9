// Delivery benchmark: the real daemon binary against a throwaway cluster and
// a local dropzone, beside the plain-loop baselines it is judged against.
// Prints figures; it asserts nothing (the machine is shared and noisy).
//
//   exportd-bench [--exports N] [--lines L] [--workers W] [--latency-samples S]
//                 [--sftp-exports N]   (0 skips the SFTP part; it needs root for sshd)
//                 [--ack-files N]      (0 skips the ack poller part)
//                 [--history N]        (N finished exports for the lifecycle part; 0 skips it)
//                 [--tenants N] [--bad-orgs B] [--arrival-s S]   (0 skips; needs root for sshd)
//                 [--backlog N] [--trickle-orgs K]               (0 skips)
//                 [--ack-connections N]                          (0 skips)
//   --exports 0 skips the local throughput and latency part.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "adapters/filesystem/filesystem_dropzone.h"
#include "adapters/postgres/pg_ack_deadlines.h"
#include "adapters/postgres/pg_ack_store.h"
#include "adapters/postgres/pg_queue_stats.h"
#include "adapters/postgres/pg_retention_store.h"
#include "adapters/prometheus/prometheus_metrics.h"
#include "adapters/sftp/sftp_dropzone.h"
#include "adapters/socket_deadlines.h"
#include "app/ack_poller.h"
#include "app/retention.h"
#include "bench_tenants.h"
#include "domain/connection_settings.h"
#include "logging/logging.h"
#include "tests/support/http.h"
#include "tests/support/pg_cluster.h"
#include "tests/support/process.h"
#include "tests/support/seed.h"
#include "tests/support/sshd_server.h"

using namespace exportd::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

struct Options {
  int exports = 5000;
  int lines = 10;
  int workers = 4;
  int latency_samples = 200;
  int sftp_exports = 3000;
  int ack_files = 10000;
  int history = 0;
  std::string binary;
  int metrics_port = 0;  // where the daemon serves /metrics (write_config picks it)
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Baseline: write, fsync, rename, fsync the directory, `writers` threads
// sharing each directory fsync (writers = 1: one file at a time).
double plain_loop_files_per_second(const std::string& dir, int files, int writers) {
  fs::create_directories(dir);
  const std::string body(1800, 'x');  // about the size of a 10-line export
  const int dirfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      for (int i = w; i < files; i += writers) {
        const std::string tmp = dir + "/.f" + std::to_string(i) + ".tmp";
        const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0640);
        [[maybe_unused]] auto n = ::write(fd, body.data(), body.size());
        ::fsync(fd);
        ::close(fd);
        ::rename(tmp.c_str(), (dir + "/f" + std::to_string(i) + ".json").c_str());
        if (writers == 1 || i % writers == 0) {
          ::fsync(dirfd);  // with several writers, one directory flush per round
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  ::fsync(dirfd);
  ::close(dirfd);
  return files / seconds_since(start);
}

std::string write_config(const std::string& dir, const std::string& url, Options& o) {
  std::string path = dir + "/exportd.toml";
  o.metrics_port = free_port();
  std::ofstream(path) << "[database]\nurl = \"" << url << "\"\n[export]\nworkers = " << o.workers
                      << "\nfilesystem_roots = [\"" << dir << "/dropzone\"]\n[log]\nlevel = "
                      << "\"warn\"\n"
                      // Served as in production, so their cost is in the figures.
                      << "[metrics]\nlisten = \"127.0.0.1:" << o.metrics_port << "\"\n";
  return path;
}

long long count_sent(pqxx::connection& conn, const std::string& org_id = "") {
  pqxx::nontransaction tx(conn);
  return tx
      .exec("SELECT count(*) FROM erp_exports WHERE status = 'SENT'" +
            (org_id.empty() ? "" : " AND org_id = '" + org_id + "'"))[0][0]
      .as<long long>();
}

// The baseline: one session writing files in a loop (existence check, open,
// write, close, rename: what a careful single-threaded client does).
double sftp_loop_files_per_second(const SshdServer& sshd, const std::string& dir, int files,
                                  size_t bytes) {
  exportd::SocketDeadlines deadlines;
  exportd::SftpDropzone dropzone(sshd.settings(dir), {.known_hosts_path = "/dev/null"}, deadlines);
  dropzone.connect();
  const std::string body(bytes, 'x');
  const auto start = Clock::now();
  for (int i = 0; i < files; ++i) {
    dropzone.write_file(dir, std::to_string(i).append(".json"), body, {.sync = false});
  }
  return files / seconds_since(start);
}

// The ack poller alone on one connection with a local ack directory: N SENT
// exports, one ack file each, polled until every file is filed away.
void run_ack_part(const Options& o, const std::string& dir, const std::string& url) {
  exportd::setup_logging(exportd::Level::warn, exportd::LogFormat::json);  // as the daemon runs
  const std::string acks = dir + "/dropzone/bench-acks/acks";
  fs::create_directories(acks);
  const auto org = seed_org(url, "bench-acks", dir + "/dropzone/bench-acks/exports", acks);
  seed_exports(url, org, o.ack_files, 1);
  {
    pqxx::connection conn(url);
    pqxx::work tx(conn);
    tx.exec_params("UPDATE draft_orders SET status = 'PUSHED' WHERE org_id = $1", org.org_id);
    for (const auto& row : tx.exec_params("UPDATE erp_exports SET status = 'SENT', sent_at = now(),"
                                          "       file_name = 'sales_order_' || id || '.json'"
                                          " WHERE org_id = $1 RETURNING file_name",
                                          org.org_id)) {
      std::ofstream(acks + "/ack_" + row[0].as<std::string>())
          << R"({"status":"ACKED","erp_order_id":"SO-1","processed_at":"2025-12-26T10:01:00Z"})";
    }
    tx.commit();
  }
  exportd::ConnectionSettings settings;
  settings.export_path = dir + "/dropzone/bench-acks/exports";
  settings.ack_path = acks;
  exportd::FilesystemDropzone dropzone({dir + "/dropzone"});
  // The daemon's own metrics, so their cost is in the figure.
  exportd::PgQueueStats queue_stats(url);
  exportd::PrometheusMetrics metrics(queue_stats, "bench");
  exportd::ConnectionHealth health(metrics);
  exportd::DropzoneCache unused(
      dropzone, [](const exportd::ConnectionSettings&) { return nullptr; },
      [](const std::string& s) { return s; }, 1);
  exportd::AckPoller poller(
      {}, [&](int) { return std::make_unique<exportd::PgAckStore>(url); }, unused, metrics, health);
  exportd::PgAckStore store(url);
  const auto start = Clock::now();
  size_t handled = 0;
  int polls = 0;
  while (handled < static_cast<size_t>(o.ack_files) && seconds_since(start) < 300) {
    const auto summary = poller.poll_once(store, dropzone, org.connection_id, settings);
    handled += summary.processed + summary.refused;
    ++polls;
  }
  std::printf("ack poller, %d ack files, one connection (%d polls): %8.0f files/s\n", o.ack_files,
              polls, static_cast<double>(handled) / seconds_since(start));
}

// Milliseconds per call of `call`: the mean and the slowest of `calls`.
struct CallTimes {
  double mean_ms = 0;
  double max_ms = 0;
};
CallTimes time_calls(int calls, const std::function<void()>& call) {
  CallTimes times;
  for (int i = 0; i < calls; ++i) {
    const auto start = Clock::now();
    call();
    const double ms = seconds_since(start) * 1000.0;
    times.mean_ms += ms / calls;
    times.max_ms = std::max(times.max_ms, ms);
  }
  return times;
}

// How long the daemon takes to deliver `count` new exports of `org`, as
// exports/s; `config` as in the throughput part.
double drain_rate(const Options& o, const std::string& dir, const std::string& url,
                  const std::string& config, const SeededOrg& org, int count) {
  pqxx::connection conn(url);
  const long long before = count_sent(conn, org.org_id);
  seed_exports(url, org, count, o.lines);
  const auto start = Clock::now();
  Process daemon(
      {.argv = {o.binary, "run", "--config", config}, .stderr_path = dir + "/history.log"});
  while (count_sent(conn, org.org_id) < before + count) {
    std::this_thread::sleep_for(50ms);  // polling must not steal the CPU it measures
    if (seconds_since(start) > 300) {
      std::fprintf(stderr, "timed out; see %s/history.log\n", dir.c_str());
      std::exit(1);
    }
  }
  const double rate = count / seconds_since(start);
  daemon.signal(SIGTERM);
  daemon.wait(30s);
  return rate;
}

// Ack deadline sweeps and retention batches with `history` finished exports
// (each draft has two: a FAILED one and the ACKED one that replaced it, so
// half may be pruned), as many audit entries and ack file records, all a
// year and more old; and whether deliveries slow down while both run.
void run_history_part(const Options& o, const std::string& dir, const std::string& url,
                      const std::string& config) {
  const auto org = seed_org(url, "bench-history", dir + "/dropzone/bench-history/exports",
                            dir + "/dropzone/bench-history/acks");
  const auto seed_start = Clock::now();
  {
    pqxx::connection conn(url);
    pqxx::work tx(conn);
    const std::string old = "now() - interval '400 days'";
    tx.exec_params(
        "CREATE TEMP TABLE history_drafts ON COMMIT DROP AS"
        " WITH d AS (INSERT INTO draft_orders (org_id, status, created_at)"
        "            SELECT $1, 'PUSHED', " +
            old +
            " FROM generate_series(1, $2) RETURNING id)"
            " SELECT id FROM d",
        org.org_id, o.history / 2);
    tx.exec_params(
        "INSERT INTO erp_exports (org_id, erp_connection_id, draft_order_id, status, file_name,"
        "  sha256, byte_size, created_at, updated_at, sent_at, acked_at, attempts, error_json)"
        " SELECT $1, $2, d.id, s.status::erp_export_status,"
        "        'sales_order_' || gen_random_uuid() || '.json', repeat('0', 64), 1800,"
        "        " +
            old + " + s.n * interval '1 minute', " + old + ", " + old +
            ","
            "        CASE WHEN s.status = 'ACKED' THEN " +
            old +
            " END, 1,"
            "        CASE WHEN s.status = 'FAILED' THEN '{\"code\":\"X\"}'::jsonb END"
            " FROM history_drafts d CROSS JOIN (VALUES (0, 'FAILED'), (1, 'ACKED')) AS s (n, "
            "status)",
        org.org_id, org.connection_id);
    tx.exec_params(
        "INSERT INTO audit_log (org_id, action, entity_type, entity_id, created_at)"
        " SELECT $1, 'EXPORT_ACKED', 'erp_export', gen_random_uuid(), " +
            old + " FROM generate_series(1, $2)",
        org.org_id, o.history);
    tx.exec_params(
        "INSERT INTO exportd_ack_files (erp_connection_id, file_name, byte_size, sha256, verdict,"
        "  erp_export_id, disposition, handled_at)"
        " SELECT erp_connection_id, 'ack_' || file_name, 80, md5(id::text), 'ACKED', id,"
        "        'processed', " +
            old + " FROM erp_exports WHERE status = 'ACKED' AND org_id = $1",
        org.org_id);
    tx.commit();
    pqxx::nontransaction(conn).exec("VACUUM ANALYZE");
  }
  std::printf(
      "history: %d finished exports, %d audit entries, %d ack file records (%.0f s to "
      "seed)\n",
      o.history, o.history, o.history / 2, seconds_since(seed_start));

  exportd::PgQueueStats queue_stats(url);
  const auto snapshot = time_calls(20, [&] { queue_stats.snapshot(); });
  std::printf("  queue snapshot (status, metrics):     mean %7.1f ms, max %7.1f ms\n",
              snapshot.mean_ms, snapshot.max_ms);
  // What an operator and Prometheus wait for: the whole `status --json`
  // command (process start, connection, every query) and one scrape.
  const auto status = time_calls(10, [&] {
    run_capture({.argv = {o.binary, "status", "--json", "--config", config}});
  });
  std::printf("  status --json, the whole command:     mean %7.1f ms, max %7.1f ms\n",
              status.mean_ms, status.max_ms);
  {
    Process daemon(
        {.argv = {o.binary, "run", "--config", config}, .stderr_path = dir + "/history.log"});
    if (!eventually([&] { return http_get(o.metrics_port, "/metrics").status == 200; }, 30s)) {
      std::fprintf(stderr, "no /metrics; see %s/history.log\n", dir.c_str());
      std::exit(1);
    }
    const auto scrape = time_calls(20, [&] { http_get(o.metrics_port, "/metrics"); });
    std::printf("  /metrics scrape:                      mean %7.1f ms, max %7.1f ms\n",
                scrape.mean_ms, scrape.max_ms);
    daemon.signal(SIGTERM);
    daemon.wait(30s);
  }

  exportd::PgAckDeadlines deadlines(url);
  const auto now = std::chrono::system_clock::now();
  const auto idle_sweep = time_calls(20, [&] { deadlines.sweep(now, 86400s, 1000); });
  std::printf("  ack deadline sweep, nothing due:      mean %7.1f ms, max %7.1f ms\n",
              idle_sweep.mean_ms, idle_sweep.max_ms);
  // 10,000 SENT exports two days without an answer: ten full batches.
  seed_exports(url, org, 10000, 1);
  {
    pqxx::connection conn(url);
    pqxx::work tx(conn);
    tx.exec_params(
        "UPDATE draft_orders SET status = 'PUSHED' WHERE org_id = $1 AND status ="
        " 'PUSHING'",
        org.org_id);
    tx.exec_params(
        "UPDATE erp_exports SET status = 'SENT', sent_at = now() - interval '2 days',"
        " file_name = 'sales_order_' || id || '.json' WHERE org_id = $1 AND status ="
        " 'PENDING'",
        org.org_id);
    tx.commit();
  }
  size_t alerted = 0;
  const auto busy_sweep =
      time_calls(10, [&] { alerted += deadlines.sweep(now, 86400s, 1000).value().size(); });
  std::printf("  ack deadline sweep, 1,000 overdue:    mean %7.1f ms, max %7.1f ms (%zu alerted)\n",
              busy_sweep.mean_ms, busy_sweep.max_ms, alerted);

  exportd::PgRetentionStore retention(url);
  const auto cutoff = now - std::chrono::days(30);
  for (const auto kind : {exportd::PruneKind::exports, exportd::PruneKind::audit_entries,
                          exportd::PruneKind::ack_file_records}) {
    exportd::PruneCursor cursor;
    size_t removed = 0;
    const auto batch = time_calls(
        20, [&] { removed += retention.prune_rows(kind, cutoff, 1000, cursor, false).removed; });
    std::printf("  retention batch of 1,000, %-16s mean %7.1f ms, max %7.1f ms (%zu removed)\n",
                (std::string(exportd::to_string(kind)) + ":").c_str(), batch.mean_ms, batch.max_ms,
                removed);
  }

  // Deliveries on top of the history: quiet; then while a retention pass runs
  // as the daemon runs it (paced batches) beside ack deadline sweeps every
  // second (the daemon: every 10 s); then, as a stress, unpaced batches and
  // sweeps back to back.
  // Alternated, so the machine's drift shows in the quiet figures too.
  const int count = o.exports;
  enum class Load { quiet, paced, stress };
  for (const Load load : {Load::quiet, Load::paced, Load::quiet, Load::paced, Load::stress}) {
    if (load == Load::quiet) {
      std::printf("  daemon throughput, %d exports, quiet: %8.0f exports/s\n", count,
                  drain_rate(o, dir, url, config, org, count));
      continue;
    }
    const bool paced = load == Load::paced;
    std::atomic<long> sweeps{0};
    std::atomic<long> pruned{0};
    std::jthread sweeper([&](std::stop_token stop) {
      exportd::PgAckDeadlines own(url);
      while (!stop.stop_requested()) {
        own.sweep(std::chrono::system_clock::now(), 86400s, 1000);
        ++sweeps;
        if (paced) {
          exportd::wait_unless_stopped(1s, stop);
        }
      }
    });
    std::jthread pruner([&](std::stop_token stop) {
      exportd::PgRetentionStore own(url);
      if (paced) {
        exportd::FilesystemDropzone filesystem({dir + "/dropzone"});
        exportd::DropzoneCache unused(
            filesystem, [](const exportd::ConnectionSettings&) { return nullptr; },
            [](const std::string& s) { return s; }, 1);
        exportd::Retention pass(own, unused, nullptr);
        const auto report = pass.run({.ack_files_days = 0,
                                      .archive_days = 0,
                                      .finished_exports_days = 30,
                                      .audit_days = 365},
                                     false, stop);
        pruned = static_cast<long>(report.removed.at(exportd::PruneKind::audit_entries) +
                                   report.removed.at(exportd::PruneKind::exports));
        return;
      }
      exportd::PruneCursor audit;
      exportd::PruneCursor exports;
      while (!stop.stop_requested()) {
        pruned += static_cast<long>(
            own.prune_rows(exportd::PruneKind::audit_entries, cutoff, 1000, audit, false).removed +
            own.prune_rows(exportd::PruneKind::exports, cutoff, 1000, exports, false).removed);
      }
    });
    const double busy = drain_rate(o, dir, url, config, org, count);
    sweeper.request_stop();
    pruner.request_stop();
    sweeper.join();
    pruner.join();
    std::printf("  the same %s: %8.0f exports/s (%ld sweeps, %ld rows pruned meanwhile)\n",
                paced ? "during a retention pass (paced) and a sweep every second"
                      : "with unpaced retention batches and sweeps back to back",
                busy, sweeps.load(), pruned.load());
  }
}

void run_sftp_part(const Options& o, const std::string& dir, const std::string& url,
                   const std::string& config) {
  SshdServer sshd;
  const std::string base = sshd.user_dir("baseline");
  const std::string exports = sshd.user_dir("exports");
  std::printf("baseline one sftp session, write loop (no fsync):    %8.0f files/s\n",
              sftp_loop_files_per_second(sshd, base, o.sftp_exports, 3000));

  const auto org = seed_org(url, "bench-sftp", dir + "/dropzone/unused", dir + "/dropzone/unused");
  const auto settings = sshd.settings(exports);
  std::ofstream(dir + "/sftp.json")
      << R"({"mode":"sftp","host":"127.0.0.1","port":)" << settings.port << R"(,"username":")"
      << settings.username << R"(","auth":"publickey","private_key_path":")"
      << settings.private_key_path << R"(","host_key_sha256":")" << sshd.host_key_sha256()
      << R"(","export_path":")" << exports << R"(","ack_path":")" << exports << R"(/acks"})";
  run_capture({.argv = {o.binary, "connection", "set", "bench-sftp", dir + "/sftp.json", "--config",
                        config}});
  seed_exports(url, org, o.sftp_exports, o.lines);
  pqxx::connection conn(url);
  const auto start = Clock::now();
  Process daemon({.argv = {o.binary, "run", "--config", config}, .stderr_path = dir + "/sftp.log"});
  while (count_sent(conn, org.org_id) < o.sftp_exports) {
    std::this_thread::sleep_for(50ms);  // polling must not steal the CPU it measures
    if (seconds_since(start) > 300) {
      std::fprintf(stderr, "timed out; see %s/sftp.log\n", dir.c_str());
      std::exit(1);
    }
  }
  std::printf("daemon over sftp (fsync@openssh.com per file):       %8.0f exports/s\n",
              o.sftp_exports / seconds_since(start));
  daemon.signal(SIGTERM);
  daemon.wait(30s);
  std::printf("daemon peak RSS with %d sftp sessions: %.1f MiB\n", o.workers,
              static_cast<double>(daemon.peak_rss_kib()) / 1024.0);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  exportd::bench::TenantOptions tenants;
  o.binary = (fs::path(argv[0]).parent_path() / "orderflow-exportd").string();
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (flag == "--exports") {
      o.exports = value;
    } else if (flag == "--lines") {
      o.lines = value;
    } else if (flag == "--workers") {
      o.workers = value;
    } else if (flag == "--latency-samples") {
      o.latency_samples = value;
    } else if (flag == "--sftp-exports") {
      o.sftp_exports = value;
    } else if (flag == "--ack-files") {
      o.ack_files = value;
    } else if (flag == "--history") {
      o.history = value;
    } else if (flag == "--tenants") {
      tenants.tenants = value;
    } else if (flag == "--bad-orgs") {
      tenants.bad_orgs = value;
    } else if (flag == "--arrival-s") {
      tenants.arrival_s = value;
    } else if (flag == "--backlog") {
      tenants.backlog = value;
    } else if (flag == "--trickle-orgs") {
      tenants.trickle_orgs = value;
    } else if (flag == "--ack-connections") {
      tenants.ack_connections = value;
    }
  }
  tenants.binary = o.binary;
  tenants.workers = o.workers;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const std::string dir = make_temp_dir("exportd-bench");
  fs::create_directories(dir + "/dropzone");
  std::printf("orderflow-exportd delivery benchmark: %d exports of %d lines, workers = %d\n",
              o.exports, o.lines, o.workers);

  PgCluster cluster;
  const std::string url = cluster.fresh_database();
  const std::string config = write_config(dir, url, o);
  if (o.exports > 0) {
    std::printf("baseline plain loop, 1 writer, fsync file + dir each: %8.0f files/s\n",
                plain_loop_files_per_second(dir + "/base1", o.exports, 1));
    std::printf("baseline plain loop, 4 writers sharing dir fsync:     %8.0f files/s\n",
                plain_loop_files_per_second(dir + "/base4", o.exports, 4));

    const auto org =
        seed_org(url, "bench", dir + "/dropzone/bench/exports", dir + "/dropzone/bench/acks");
    pqxx::connection conn(url);

    // Throughput: a full queue, drained by the daemon.
    seed_exports(url, org, o.exports, o.lines);
    const auto start = Clock::now();
    Process daemon({.argv = {o.binary, "run", "--config", config}, .stderr_path = dir + "/log"});
    while (count_sent(conn) < o.exports) {
      std::this_thread::sleep_for(50ms);  // polling must not steal the CPU it measures
      if (seconds_since(start) > 300) {
        std::fprintf(stderr, "timed out; see %s/log\n", dir.c_str());
        return 1;
      }
    }
    const double throughput = o.exports / seconds_since(start);
    std::printf("daemon throughput (fsync'ed, durable):               %8.0f exports/s\n",
                throughput);

    // Latency when idle: one export at a time, insert commit to SENT, from the
    // database's own clock so polling here adds nothing.
    for (int i = 0; i < o.latency_samples; ++i) {
      seed_exports(url, org, 1, o.lines);
      std::this_thread::sleep_for(20ms);
    }
    const auto all = static_cast<long long>(o.exports) + o.latency_samples;
    while (count_sent(conn) < all && seconds_since(start) < 300) {
      std::this_thread::sleep_for(50ms);  // polling must not steal the CPU it measures
    }
    std::vector<double> latencies;
    {
      pqxx::nontransaction tx(conn);
      for (const auto& row :
           tx.exec("SELECT extract(epoch FROM sent_at - created_at) * 1000 FROM erp_exports"
                   " ORDER BY created_at DESC LIMIT " +
                   std::to_string(o.latency_samples))) {
        latencies.push_back(row[0].as<double>());
      }
    }
    std::sort(latencies.begin(), latencies.end());
    const auto pct = [&](double p) {
      return latencies.empty()
                 ? 0.0
                 : latencies[std::min(
                       latencies.size() - 1,
                       static_cast<size_t>(p * static_cast<double>(latencies.size())))];
    };
    std::printf("idle insert-to-SENT latency: p50 %.1f ms, p99 %.1f ms (%zu samples)\n", pct(0.50),
                pct(0.99), latencies.size());

    daemon.signal(SIGTERM);
    daemon.wait(30s);
    std::printf("daemon peak RSS: %.1f MiB\n", static_cast<double>(daemon.peak_rss_kib()) / 1024.0);
  }
  if (o.ack_files > 0) {
    run_ack_part(o, dir, url);
  }
  if (o.history > 0) {
    run_history_part(o, dir, url, config);
  }
  if (o.sftp_exports > 0) {
    run_sftp_part(o, dir, url, config);
  }
  if (tenants.tenants > 0) {
    exportd::bench::run_tenants_part(tenants, cluster, dir);
  }
  if (tenants.backlog > 0) {
    exportd::bench::run_backlog_part(tenants, cluster, dir);
  }
  if (tenants.ack_connections > 0) {
    exportd::bench::run_ack_connections_part(tenants, cluster, dir);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
