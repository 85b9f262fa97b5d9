// Delivery benchmark: the real daemon binary against a throwaway cluster and
// a local dropzone, beside the plain-loop baselines it is judged against.
// Prints figures; it asserts nothing (the machine is shared and noisy).
//
//   exportd-bench [--exports N] [--lines L] [--workers W] [--latency-samples S]
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/pg_cluster.h"
#include "tests/support/process.h"
#include "tests/support/seed.h"

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
  std::string binary;
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

std::string write_config(const std::string& dir, const std::string& url, const Options& o) {
  const std::string path = dir + "/exportd.toml";
  std::ofstream(path) << "[database]\nurl = \"" << url << "\"\n[export]\nworkers = " << o.workers
                      << "\nfilesystem_roots = [\"" << dir << "/dropzone\"]\n[log]\nlevel = "
                      << "\"warn\"\n";
  return path;
}

long long count_sent(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  return tx.exec("SELECT count(*) FROM erp_exports WHERE status = 'SENT'")[0][0].as<long long>();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
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
    }
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const std::string dir = make_temp_dir("exportd-bench");
  fs::create_directories(dir + "/dropzone");
  std::printf("orderflow-exportd delivery benchmark: %d exports of %d lines, workers = %d\n",
              o.exports, o.lines, o.workers);

  std::printf("baseline plain loop, 1 writer, fsync file + dir each: %8.0f files/s\n",
              plain_loop_files_per_second(dir + "/base1", o.exports, 1));
  std::printf("baseline plain loop, 4 writers sharing dir fsync:     %8.0f files/s\n",
              plain_loop_files_per_second(dir + "/base4", o.exports, 4));

  PgCluster cluster;
  const std::string url = cluster.fresh_database();
  const auto org =
      seed_org(url, "bench", dir + "/dropzone/bench/exports", dir + "/dropzone/bench/acks");
  const std::string config = write_config(dir, url, o);
  pqxx::connection conn(url);

  // Throughput: a full queue, drained by the daemon.
  seed_exports(url, org, o.exports, o.lines);
  const auto start = Clock::now();
  Process daemon({.argv = {o.binary, "run", "--config", config}, .stderr_path = dir + "/log"});
  while (count_sent(conn) < o.exports) {
    std::this_thread::sleep_for(5ms);
    if (seconds_since(start) > 300) {
      std::fprintf(stderr, "timed out; see %s/log\n", dir.c_str());
      return 1;
    }
  }
  const double throughput = o.exports / seconds_since(start);
  std::printf("daemon throughput (fsync'ed, durable):               %8.0f exports/s\n", throughput);

  // Latency when idle: one export at a time, insert commit to SENT, from the
  // database's own clock so polling here adds nothing.
  for (int i = 0; i < o.latency_samples; ++i) {
    seed_exports(url, org, 1, o.lines);
    std::this_thread::sleep_for(20ms);
  }
  const auto all = static_cast<long long>(o.exports) + o.latency_samples;
  while (count_sent(conn) < all && seconds_since(start) < 300) {
    std::this_thread::sleep_for(5ms);
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
    return latencies.empty() ? 0.0
                             : latencies[std::min(
                                   latencies.size() - 1,
                                   static_cast<size_t>(p * static_cast<double>(latencies.size())))];
  };
  std::printf("idle insert-to-SENT latency: p50 %.1f ms, p99 %.1f ms (%zu samples)\n", pct(0.50),
              pct(0.99), latencies.size());

  daemon.signal(SIGTERM);
  daemon.wait(30s);
  std::printf("daemon peak RSS: %.1f MiB\n", static_cast<double>(daemon.peak_rss_kib()) / 1024.0);
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
