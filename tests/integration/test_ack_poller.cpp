// The ack poller against a real PostgreSQL and real dropzones (a local
// directory and an OpenSSH server): every row of the spec's "what the daemon
// does", hostile directory contents, and a crash between commit and move.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <thread>

#include "adapters/filesystem/filesystem_dropzone.h"
#include "adapters/postgres/pg_ack_store.h"
#include "adapters/sftp/sftp_dropzone.h"
#include "adapters/socket_deadlines.h"
#include "app/ack_poller.h"
#include "domain/connection_settings.h"
#include "domain/dated_names.h"
#include "tests/fakes/fake_metrics.h"
#include "tests/support/captured_log.h"
#include "tests/support/files.h"
#include "tests/support/pg_cluster.h"
#include "tests/support/process.h"
#include "tests/support/seed.h"
#include "tests/support/sshd_server.h"

using namespace exportd;
using namespace exportd::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

SshdServer& sshd() {
  return SshdServer::shared();
}

std::string export_value(const std::string& url, const std::string& id, const std::string& col) {
  return query_value(url, "SELECT " + col + " FROM erp_exports WHERE id = '" + id + "'");
}

// A log line's "ts" (2026-11-23T12:00:00.123Z) in milliseconds since the epoch.
long long log_time_ms(const std::string& ts) {
  int year = 0;
  unsigned month = 0, day = 0, hour = 0, minute = 0, second = 0, milli = 0;
  std::sscanf(ts.c_str(), "%d-%u-%uT%u:%u:%u.%uZ", &year, &month, &day, &hour, &minute, &second,
              &milli);
  const auto at = std::chrono::sys_days(std::chrono::year(year) / month / day) +
                  std::chrono::hours(hour) + std::chrono::minutes(minute) +
                  std::chrono::seconds(second) + std::chrono::milliseconds(milli);
  return std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
}

std::string count_audit(const std::string& url, const std::string& action) {
  return query_value(url, "SELECT count(*) FROM audit_log WHERE action = '" + action + "'");
}

// A dropzone, the local path of its ack directory, and a poller over it.
struct Rig {
  std::string url = PgCluster::shared().fresh_database();
  std::string ack_dir;  // local path (for SFTP: the server's directory)
  SeededOrg org;
  ConnectionSettings settings;
  FakeMetrics metrics;
  ConnectionHealth health{metrics};
  FilesystemDropzone filesystem{{"/"}};
  SocketDeadlines deadlines;
  std::unique_ptr<Dropzone> sftp;
  std::unique_ptr<DropzoneCache> unused_cache;
  PgAckStore store{url};
  std::unique_ptr<AckPoller> poller;
  // When the poller moves files: a fixed moment, so each day folder is known.
  std::chrono::system_clock::time_point now =
      std::chrono::system_clock::from_time_t(1795435200);  // 2026-11-23T12:00:00Z

  explicit Rig(bool over_sftp) {
    if (over_sftp) {
      ack_dir = sshd().user_dir("acks");
      settings = sshd().settings(ack_dir);
      settings.ack_path = ack_dir;
      sftp = std::make_unique<SftpDropzone>(settings, SftpOptions{}, deadlines);
    } else {
      ack_dir = make_temp_dir("exportd-acks");
      settings.mode = DropzoneMode::filesystem;
      settings.export_path = ack_dir + "/exports";
      settings.ack_path = ack_dir;
    }
    org = seed_org(url, "acme", settings.export_path, settings.ack_path);
    unused_cache = std::make_unique<DropzoneCache>(
        filesystem, [](const ConnectionSettings&) { return nullptr; },
        [](const std::string& s) { return s; }, 1);
    poller = std::make_unique<AckPoller>(
        AckPollerOptions{.max_file_bytes = 4096, .batch_size = 3, .now = [this] { return now; }},
        [this](int) { return std::make_unique<PgAckStore>(url); }, *unused_cache, metrics, health);
  }

  Dropzone& dropzone() { return sftp ? *sftp : static_cast<Dropzone&>(filesystem); }
  AckPollSummary poll() {
    return poller->poll_once(store, dropzone(), org.connection_id, settings);
  }
  void drop(const std::string& name, const std::string& bytes) {
    std::ofstream(ack_dir + "/" + name) << bytes;
  }
  std::string stem(const std::string& export_id) const { return "sales_order_" + export_id; }
  // Today's folder of processed/ or error/, as the poller's clock has it.
  std::string processed() const { return ack_dir + "/processed/" + day_folder_name(now); }
  std::string error() const { return ack_dir + "/error/" + day_folder_name(now); }
};

const std::string kAck =
    R"({"status":"ACKED","erp_order_id":"SO-1","processed_at":"2025-12-26T10:01:00Z"})";
const std::string kError =
    R"({"status":"FAILED","error_code":"ERP_VALIDATION","message":"Unknown customer 4711"})";

void every_spec_row(Rig& rig) {
  const auto ids = seed_exports(rig.url, rig.org, 6, 1);
  mark_sent(rig.url, {ids[0], ids[1], ids[2], ids[3]});
  // The fifth was written but its delivery not yet recorded: named, PENDING.
  query_value(rig.url,
              "UPDATE erp_exports SET file_name = 'sales_order_' || id || '.json'"
              " WHERE id = '" +
                  ids[4] + "' RETURNING 1");
  const std::string& acked = ids[0];
  const std::string& rejected = ids[1];
  const std::string& contradicted = ids[2];
  const std::string& by_draft = ids[3];
  const std::string& pending = ids[4];
  const auto draft_of = [&](const std::string& id) {
    return export_value(rig.url, id, "draft_order_id");
  };

  rig.drop("ack_" + rig.stem(acked) + ".json", kAck);
  rig.drop("error_" + rig.stem(rejected) + ".json", kError);
  rig.drop("ack_" + rig.stem(contradicted) + ".json", kAck);
  rig.drop("ack_" + draft_of(by_draft) + ".json", R"({"status":"ACKED","erp_order_id":"SO-4"})");
  rig.drop("ack_" + rig.stem(pending) + ".json", kAck);
  rig.drop("ack_sales_order_nobody.json", kAck);
  rig.drop("ack_broken.json", R"({"status":"ACK)");
  rig.drop("ack_huge.json", std::string(5000, ' '));
  rig.drop("error_" + rig.stem(acked) + "x.json", "{}");
  rig.drop("notes.txt", "left alone");
  rig.drop(".ack_hidden.json", kAck);
  rig.drop("ack_" + rig.stem(acked) + ".json.tmp", kAck);

  auto first = rig.poll();
  // Applied: ACKED with the ERP's order number, audit, processed/.
  CHECK(export_value(rig.url, acked, "status") == "ACKED");
  CHECK(export_value(rig.url, acked, "erp_order_id") == "SO-1");
  CHECK(export_value(rig.url, acked, "acked_at IS NOT NULL") == "t");
  // Rejected: FAILED with the ERP's object, the draft ERROR.
  CHECK(export_value(rig.url, rejected, "status") == "FAILED");
  CHECK(export_value(rig.url, rejected, "error_json->>'error_code'") == "ERP_VALIDATION");
  CHECK(query_value(rig.url, "SELECT status FROM draft_orders WHERE id = '" + draft_of(rejected) +
                                 "'") == "ERROR");
  // The older draft-id form reaches the draft's SENT export.
  CHECK(export_value(rig.url, by_draft, "erp_order_id") == "SO-4");
  CHECK(count_audit(rig.url, "EXPORT_ACKED") == "3");
  CHECK(count_audit(rig.url, "EXPORT_REJECTED") == "1");
  // Unsettled garbage stays in place; a PENDING export's answer waits.
  CHECK(first.unsettled == 3);
  CHECK(first.waiting == 1);
  CHECK(first.refused == 1);  // no export matches 'sales_order_nobody'
  const auto processed = names_in(rig.processed());
  CHECK(processed.size() == 4);
  CHECK(names_in(rig.ack_dir + "/processed") == std::vector<std::string>{"2026-11-23"});

  // The ERP contradicts itself and repeats itself; the delivery of the
  // PENDING export is recorded meanwhile.
  rig.drop("error_" + rig.stem(contradicted) + ".json", kError);
  mark_sent(rig.url, {pending});
  // The same answer again, reworded: a repeat, recorded, nothing changes.
  rig.drop("ack_" + rig.stem(acked) + ".json",
           R"({"status":"ACKED","erp_order_id":"SO-1","processed_at":"2025-12-27T00:00:00Z"})");
  const auto second = rig.poll();
  CHECK(export_value(rig.url, contradicted, "status") == "ACKED");
  CHECK(export_value(rig.url, pending, "status") == "ACKED");
  CHECK(count_audit(rig.url, "EXPORT_ACKED") == "4");  // the repeat changed nothing
  CHECK(second.unsettled == 0);
  // Settled garbage, too large, contradiction: error/, the database untouched.
  const auto errors = names_in(rig.error());
  std::vector<std::string> expected_errors{
      "ack_broken.json", "ack_huge.json", "ack_sales_order_nobody.json",
      "error_" + rig.stem(acked) + "x.json", "error_" + rig.stem(contradicted) + ".json"};
  std::sort(expected_errors.begin(), expected_errors.end());
  CHECK(errors == expected_errors);
  // The repeat did not overwrite the first answer: it got a unique name.
  const auto processed_after = names_in(rig.processed());
  CHECK(processed_after.size() == 6);
  CHECK(std::find(processed_after.begin(), processed_after.end(),
                  "ack_" + rig.stem(acked) + ".1.json") != processed_after.end());
  // What is left alone is still there, untouched.
  CHECK(names_in(rig.ack_dir) == std::vector<std::string>{".ack_hidden.json",
                                                          "ack_" + rig.stem(acked) + ".json.tmp",
                                                          "error", "notes.txt", "processed"});
  CHECK(query_value(rig.url, "SELECT count(*) FROM exportd_ack_files") == "11");
  CHECK(query_value(rig.url,
                    "SELECT string_agg(DISTINCT verdict, ',' ORDER BY verdict)"
                    " FROM exportd_ack_files") ==
        "ACKED,CONTRADICTION,INVALID,NO_EXPORT,REJECTED,REPEAT,TOO_LARGE");
  // Every recorded file counted once, by the verdict stored with it.
  CHECK(rig.metrics.ack_files() == std::map<std::string, int>{{"ACKED", 4},
                                                              {"CONTRADICTION", 1},
                                                              {"INVALID", 2},
                                                              {"NO_EXPORT", 1},
                                                              {"REJECTED", 1},
                                                              {"REPEAT", 1},
                                                              {"TOO_LARGE", 1}});
}

}  // namespace

TEST_CASE("ack poller on a local directory: every row of the spec", "[ack]") {
  Rig rig(false);
  every_spec_row(rig);
}

TEST_CASE("ack poller over SFTP: every row of the spec", "[ack][sftp]") {
  Rig rig(true);
  every_spec_row(rig);
}

TEST_CASE("ack poller: hostile directory contents are never followed or read past the cap",
          "[ack]") {
  Rig rig(false);
  const auto ids = seed_exports(rig.url, rig.org, 1, 1);
  mark_sent(rig.url, ids);
  const std::string outside = make_temp_dir("exportd-outside");
  std::ofstream(outside + "/secret.json") << kAck;
  fs::create_symlink(outside + "/secret.json", rig.ack_dir + "/ack_" + rig.stem(ids[0]) + ".json");
  fs::create_directory(rig.ack_dir + "/ack_dir.json");
  REQUIRE(::mkfifo((rig.ack_dir + "/ack_fifo.json").c_str(), 0644) == 0);
  rig.drop("ack_odd name ü\t'\".json", kAck);
  rig.drop("ack_deep.json", std::string(100000, '[') + std::string(100000, ']'));
  rig.drop("ack_big.json", std::string(1 << 20, 'x'));

  for (int i = 0; i < 2; ++i) {
    rig.poll();
  }
  CHECK(export_value(rig.url, ids[0], "status") == "SENT");  // the symlink was not followed
  CHECK(fs::is_symlink(rig.ack_dir + "/ack_" + rig.stem(ids[0]) + ".json"));
  CHECK(fs::is_directory(rig.ack_dir + "/ack_dir.json"));
  CHECK(fs::is_fifo(rig.ack_dir + "/ack_fifo.json"));
  CHECK(names_in(rig.error()) ==
        std::vector<std::string>{"ack_big.json", "ack_deep.json", "ack_odd name ü\t'\".json"});
  fs::remove_all(outside);
}

TEST_CASE("ack poller: a crash between commit and move is completed by the next poll", "[ack]") {
  Rig rig(false);
  const auto ids = seed_exports(rig.url, rig.org, 1, 1);
  mark_sent(rig.url, ids);
  const std::string name = "ack_" + rig.stem(ids[0]) + ".json";
  rig.drop(name, kAck);

  // The child dies exactly where the move would happen, after the commit.
  class DyingDropzone : public FilesystemDropzone {
   public:
    using FilesystemDropzone::FilesystemDropzone;
    bool move_file(const std::string&, const std::string&, const std::string&,
                   const std::string&) override {
      ::_exit(9);
    }
  };
  const pid_t child = ::fork();
  if (child == 0) {
    PgAckStore store(rig.url);
    DyingDropzone dying({"/"});
    rig.poller->poll_once(store, dying, rig.org.connection_id, rig.settings);
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 9);
  CHECK(export_value(rig.url, ids[0], "status") == "ACKED");
  CHECK(fs::exists(rig.ack_dir + "/" + name));

  // Completed the next day: the file goes to the folder of the day it moves.
  rig.now += std::chrono::hours(24);
  rig.poll();
  CHECK(names_in(rig.ack_dir + "/processed/2026-11-23").empty());  // made before the crash
  CHECK(names_in(rig.processed()) == std::vector<std::string>{name});
  CHECK(count_audit(rig.url, "EXPORT_ACKED") == "1");
  CHECK(query_value(rig.url, "SELECT count(*) FROM exportd_ack_files") == "1");
}

namespace {

void day_folders(Rig& rig) {
  const auto ids = seed_exports(rig.url, rig.org, 1, 1);
  mark_sent(rig.url, ids);
  const std::string name = "ack_" + rig.stem(ids[0]) + ".json";
  rig.drop(name, kAck);
  rig.drop("ack_sales_order_nobody.json", kAck);
  rig.poll();
  // The ERP sends the same answer again two days later: that day's folder,
  // under its own name, since no earlier file is in the way there.
  rig.now += std::chrono::hours(48);
  rig.drop(name, kAck);
  rig.poll();
  CHECK(names_in(rig.ack_dir + "/processed") ==
        std::vector<std::string>{"2026-11-23", "2026-11-25"});
  CHECK(names_in(rig.ack_dir + "/processed/2026-11-23") == std::vector<std::string>{name});
  CHECK(names_in(rig.ack_dir + "/processed/2026-11-25") == std::vector<std::string>{name});
  CHECK(names_in(rig.ack_dir + "/error") == std::vector<std::string>{"2026-11-23"});
  CHECK(names_in(rig.ack_dir + "/error/2026-11-23") ==
        std::vector<std::string>{"ack_sales_order_nobody.json"});
}

}  // namespace

TEST_CASE("ack poller: handled files go to the folder of the day they move, locally",
          "[ack][day_folders]") {
  Rig rig(false);
  day_folders(rig);
}

TEST_CASE("ack poller: handled files go to the folder of the day they move, over SFTP",
          "[ack][day_folders][sftp]") {
  Rig rig(true);
  day_folders(rig);
}

TEST_CASE("ack poller: one poller per connection across hosts", "[ack]") {
  Rig rig(false);
  PgAckStore first(rig.url);
  PgAckStore second(rig.url);
  CHECK(first.try_claim_connection(rig.org.connection_id));
  CHECK_FALSE(second.try_claim_connection(rig.org.connection_id));
  first.release_connection(rig.org.connection_id);
  CHECK(second.try_claim_connection(rig.org.connection_id));
}

TEST_CASE(
    "ack poller threads: a hanging connection does not hold up the others; work is "
    "bounded per poll",
    "[ack][sftp]") {
  Rig rig(false);
  // A second org whose SFTP server will stop answering.
  const std::string frozen_dir = sshd().user_dir("frozen-acks");
  auto frozen_settings = sshd().settings(frozen_dir);
  frozen_settings.ack_path = frozen_dir;
  const auto frozen = seed_org(rig.url, "frozen", "/unused", "/unused");
  nlohmann::json config = sshd().connection_config(frozen_dir);
  config["ack_poll_interval_s"] = 1;
  query_value(rig.url, "UPDATE erp_connections SET config = '" + config.dump() + "' WHERE id = '" +
                           frozen.connection_id + "' RETURNING 1");
  query_value(rig.url,
              "UPDATE erp_connections SET config = config || '{\"ack_poll_interval_s\": 1}'"
              " WHERE id = '" +
                  rig.org.connection_id + "' RETURNING 1");

  const auto ids = seed_exports(rig.url, rig.org, 10, 1);
  mark_sent(rig.url, ids);
  for (const auto& id : ids) {
    rig.drop("ack_" + rig.stem(id) + ".json", kAck);
  }
  DropzoneCache cache(
      rig.filesystem,
      [&](const ConnectionSettings& s) {
        return std::make_unique<SftpDropzone>(
            s, SftpOptions{.operation_timeout = std::chrono::seconds(3)}, rig.deadlines);
      },
      [](const std::string& s) { return s; }, 2);
  sshd().freeze();
  AckPoller poller(
      {.max_files_per_poll = 3, .batch_size = 2, .threads = 2},
      [&](int) { return std::make_unique<PgAckStore>(rig.url); }, cache, rig.metrics, rig.health);
  const auto started = std::chrono::steady_clock::now();
  poller.start();
  // All ten, three per poll, while the other thread waits on the frozen server.
  CHECK(eventually(
      [&] {
        return query_value(rig.url, "SELECT count(*) FROM erp_exports WHERE status = 'ACKED'") ==
               "10";
      },
      std::chrono::seconds(10)));
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(3));
  CHECK(eventually(
      [&] {
        return query_value(rig.url, "SELECT last_ack_poll_error FROM erp_connections WHERE id = '" +
                                        frozen.connection_id + "'")
                   .find("no answer") != std::string::npos;
      },
      std::chrono::seconds(10)));
  poller.stop();
  sshd().thaw();
  CHECK(query_value(rig.url,
                    "SELECT last_ack_poll_error IS NULL AND last_ack_poll_at IS NOT NULL"
                    " FROM erp_connections WHERE id = '" +
                        rig.org.connection_id + "'") == "t");
}

TEST_CASE(
    "ack poller threads: servers that stopped answering take one thread at a time, the "
    "healthy connections keep the other",
    "[ack][sftp]") {
  Rig rig(false);
  // Three orgs whose SFTP server stops answering, all polled every second.
  for (int i = 0; i < 3; ++i) {
    const std::string name = "frozen-" + std::to_string(i);
    const auto org = seed_org(rig.url, name, "/unused", "/unused");
    nlohmann::json config = sshd().connection_config(sshd().user_dir(name));
    config["ack_poll_interval_s"] = 1;
    query_value(rig.url, "UPDATE erp_connections SET config = '" + config.dump() +
                             "' WHERE id = '" + org.connection_id + "' RETURNING 1");
  }
  query_value(rig.url,
              "UPDATE erp_connections SET config = config || '{\"ack_poll_interval_s\": 1}'"
              " WHERE id = '" +
                  rig.org.connection_id + "' RETURNING 1");
  const auto timeout = std::chrono::seconds(2);
  DropzoneCache cache(
      rig.filesystem,
      [&](const ConnectionSettings& s) {
        return std::make_unique<SftpDropzone>(s, SftpOptions{.operation_timeout = timeout},
                                              rig.deadlines);
      },
      [](const std::string& s) { return s; }, 2);

  CapturedLog log;
  sshd().freeze();
  AckPoller poller(
      {.threads = 2}, [&](int) { return std::make_unique<PgAckStore>(rig.url); }, cache,
      rig.metrics, rig.health);
  poller.start();
  const auto ids = seed_exports(rig.url, rig.org, 3, 1);
  mark_sent(rig.url, ids);
  for (const auto& id : ids) {
    rig.drop("ack_" + rig.stem(id) + ".json", kAck);
  }
  // The healthy connection's answers are applied while the frozen server
  // holds a poll.
  CHECK(eventually(
      [&] {
        return query_value(rig.url, "SELECT count(*) FROM erp_exports WHERE status = 'ACKED'") ==
               "3";
      },
      std::chrono::seconds(5)));
  // Until each frozen connection was tried: one at a time, a timeout each.
  std::this_thread::sleep_for(6500ms);
  poller.stop();
  sshd().thaw();

  // When each failed poll ended, in log order: each began after the one
  // before ended, so they ended a timeout apart.
  std::vector<long long> failed_at;
  for (const auto& line : log.lines()) {
    const auto event = nlohmann::json::parse(line);
    if (event["msg"] == "ack poll failed") {
      failed_at.push_back(log_time_ms(event["ts"].get<std::string>()));
    }
  }
  REQUIRE(failed_at.size() >= 3);
  long long closest = std::numeric_limits<long long>::max();
  for (size_t i = 1; i < failed_at.size(); ++i) {
    closest = std::min(closest, failed_at[i] - failed_at[i - 1]);
  }
  INFO("failed polls ended " << closest << " ms apart at the closest");
  CHECK(closest >= std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count() * 3 / 4);
}

TEST_CASE("ack poller: a server paused by its breaker is not polled until the pause ends",
          "[ack][sftp]") {
  Rig rig(false);
  nlohmann::json config = sshd().connection_config(sshd().user_dir("paused"));
  config["ack_poll_interval_s"] = 1;
  query_value(rig.url, "UPDATE erp_connections SET config = '" + config.dump() + "' WHERE id = '" +
                           rig.org.connection_id + "' RETURNING 1");
  const std::string acks = config["ack_path"].get<std::string>();
  const auto ids = seed_exports(rig.url, rig.org, 1, 1);
  mark_sent(rig.url, ids);
  std::ofstream(acks + "/ack_" + rig.stem(ids[0]) + ".json") << kAck;
  // The deliveries found the server failing: its breaker is open for 3 s.
  ConnectionHealth health(rig.metrics, {.failure_threshold = 1, .initial_pause = 3s});
  const DeliveryRoute route{rig.org.connection_id,
                            delivery_endpoint(parse_connection_settings(config)), true};
  health.failed(route, "connection timed out");
  DropzoneCache cache(
      rig.filesystem,
      [&](const ConnectionSettings& s) {
        return std::make_unique<SftpDropzone>(s, SftpOptions{}, rig.deadlines);
      },
      [](const std::string& s) { return s; }, 1);
  AckPoller poller(
      {.threads = 1}, [&](int) { return std::make_unique<PgAckStore>(rig.url); }, cache,
      rig.metrics, health);
  const auto started = std::chrono::steady_clock::now();
  poller.start();
  std::this_thread::sleep_for(1500ms);
  CHECK(export_value(rig.url, ids[0], "status") == "SENT");
  CHECK(query_value(rig.url, "SELECT last_ack_poll_at FROM erp_connections WHERE id = '" +
                                 rig.org.connection_id + "'")
            .empty());
  REQUIRE(eventually([&] { return export_value(rig.url, ids[0], "status") == "ACKED"; }, 10s));
  poller.stop();
  CHECK(std::chrono::steady_clock::now() - started >= 3s);
  // The poll's answer closed the server's breaker for the deliveries too.
  CHECK(health.trusted(route));
  CHECK(health.state(rig.org.connection_id) == CircuitBreaker::State::closed);
}

TEST_CASE(
    "ack poller: a server frozen before its first poll holds one thread; the other polls the "
    "rest",
    "[ack][sftp]") {
  Rig rig(false);
  query_value(rig.url, "UPDATE erp_connections SET is_active = false RETURNING 1");
  std::vector<std::string> frozen;
  for (int i = 0; i < 4; ++i) {
    const std::string name = "never-answered-" + std::to_string(i);
    const auto org = seed_org(rig.url, name, "/unused", "/unused");
    query_value(rig.url, "UPDATE erp_connections SET config = '" +
                             sshd().connection_config(sshd().user_dir(name)).dump() +
                             "' WHERE id = '" + org.connection_id + "' RETURNING 1");
    frozen.push_back(org.connection_id);
  }
  DropzoneCache cache(
      rig.filesystem,
      [&](const ConnectionSettings& s) {
        return std::make_unique<SftpDropzone>(s, SftpOptions{.operation_timeout = 4s},
                                              rig.deadlines);
      },
      [](const std::string& s) { return s; }, 2);
  sshd().freeze();
  AckPoller poller(
      {.threads = 2, .refresh_every = 500ms},
      [&](int) { return std::make_unique<PgAckStore>(rig.url); }, cache, rig.metrics, rig.health);
  poller.start();
  // A healthy connection appears while the frozen server holds a poll; the
  // poller sees it at its next look at the connections.
  const auto ids = seed_exports(rig.url, rig.org, 1, 1);
  mark_sent(rig.url, ids);
  rig.drop("ack_" + rig.stem(ids[0]) + ".json", kAck);
  query_value(rig.url, "UPDATE erp_connections SET is_active = true WHERE id = '" +
                           rig.org.connection_id + "' RETURNING 1");
  const bool answered =
      eventually([&] { return export_value(rig.url, ids[0], "status") == "ACKED"; }, 3500ms);
  // Before any poll of the frozen server gave up (4 s): the second thread
  // never went there.
  const auto frozen_failures = query_value(
      rig.url, "SELECT count(*) FROM erp_connections WHERE last_ack_poll_error IS NOT NULL");
  sshd().thaw();
  poller.stop();
  CHECK(answered);
  CHECK(frozen_failures == "0");
}

namespace {

// The real store, counting the locks taken: what each poll costs the database.
struct LockCountingStore : PgAckStore {
  LockCountingStore(const std::string& url, std::atomic<int>& locks)
      : PgAckStore(url), locks_(locks) {}
  bool try_claim_connection(const std::string& connection_id) override {
    ++locks_;
    return PgAckStore::try_claim_connection(connection_id);
  }
  std::atomic<int>& locks_;
};

}  // namespace

TEST_CASE("ack poller: a poll that finds no answer takes no lock", "[ack]") {
  Rig rig(false);
  query_value(rig.url,
              "UPDATE erp_connections SET config = config || '{\"ack_poll_interval_s\": 1}'"
              " RETURNING 1");
  std::ofstream(rig.ack_dir + "/readme.txt") << "not an answer";
  std::atomic<int> locks{0};
  DropzoneCache cache(
      rig.filesystem, [](const ConnectionSettings&) { return nullptr; },
      [](const std::string& s) { return s; }, 2);
  AckPoller idle(
      {}, [&](int) { return std::make_unique<LockCountingStore>(rig.url, locks); }, cache,
      rig.metrics, rig.health);
  idle.start();
  // Polled (the first outcome is written), again and again, never locked.
  REQUIRE(eventually(
      [&] { return !query_value(rig.url, "SELECT last_ack_poll_at FROM erp_connections").empty(); },
      10s));
  std::this_thread::sleep_for(2500ms);
  CHECK(locks == 0);

  // An answer: locked, handled.
  const auto ids = seed_exports(rig.url, rig.org, 1, 1);
  mark_sent(rig.url, ids);
  rig.drop("ack_" + rig.stem(ids[0]) + ".json", kAck);
  REQUIRE(eventually([&] { return export_value(rig.url, ids[0], "status") == "ACKED"; }, 10s));
  idle.stop();
  CHECK(locks >= 1);
}

TEST_CASE("ack store: an idle poll that changes nothing writes no row", "[ack]") {
  Rig rig(false);
  // Each write of the row gives it a new version, with a new xmin.
  const auto row_version = [&] {
    return query_value(rig.url, "SELECT xmin::text FROM erp_connections WHERE id = '" +
                                    rig.org.connection_id + "'");
  };
  rig.store.record_poll(rig.org.connection_id, "");
  const auto first = row_version();
  for (int i = 0; i < 5; ++i) {
    rig.store.record_poll(rig.org.connection_id, "");
  }
  CHECK(row_version() == first);

  // A new outcome is written at once, and so is the same one again.
  rig.store.record_poll(rig.org.connection_id, "cannot list");
  const auto failed = row_version();
  CHECK(failed != first);
  rig.store.record_poll(rig.org.connection_id, "cannot list");
  CHECK(row_version() == failed);
  rig.store.record_poll(rig.org.connection_id, "");
  CHECK(query_value(rig.url,
                    "SELECT last_ack_poll_error IS NULL FROM erp_connections"
                    " WHERE id = '" +
                        rig.org.connection_id + "'") == "t");

  // The time of the last poll is refreshed once it is a minute old.
  query_value(rig.url,
              "UPDATE erp_connections SET last_ack_poll_at = now() - interval '61 seconds'"
              " WHERE id = '" +
                  rig.org.connection_id + "' RETURNING 1");
  rig.store.record_poll(rig.org.connection_id, "");
  CHECK(query_value(rig.url,
                    "SELECT last_ack_poll_at > now() - interval '10 seconds' FROM erp_connections"
                    " WHERE id = '" +
                        rig.org.connection_id + "'") == "t");
}

TEST_CASE("ack poller: an answer the database cannot store goes to error/ alone", "[ack]") {
  Rig rig(false);
  const auto ids = seed_exports(rig.url, rig.org, 5, 1);
  mark_sent(rig.url, ids);
  rig.drop("ack_" + rig.stem(ids[0]) + ".json", kAck);
  rig.drop("error_" + rig.stem(ids[1]) + ".json", kError);
  const std::string nul_error = "error_" + rig.stem(ids[2]) + ".json";
  rig.drop(nul_error, R"({"status":"FAILED","error_code":"E","message":"a\u0000b"})");
  const std::string nul_ack = "ack_" + rig.stem(ids[3]) + ".json";
  rig.drop(nul_ack, R"({"status":"ACKED","erp_order_id":"SO\u00001"})");
  const std::string odd_name = "ack_\xff\xfe.json";
  rig.drop(odd_name, kAck);
  rig.drop("ack_" + rig.stem(ids[4]) + ".json", kAck);

  // The valid answers are applied at once; the bad ones wait to be settled.
  REQUIRE_NOTHROW(rig.poll());
  CHECK(export_value(rig.url, ids[0], "status") == "ACKED");
  CHECK(export_value(rig.url, ids[1], "status") == "FAILED");
  CHECK(export_value(rig.url, ids[4], "status") == "ACKED");
  const auto second = rig.poll();
  CHECK(second.refused == 3);
  CHECK(names_in(rig.error()) == std::vector<std::string>{nul_ack, odd_name, nul_error});
  CHECK(export_value(rig.url, ids[2], "status") == "SENT");
  CHECK(export_value(rig.url, ids[3], "status") == "SENT");
  CHECK(query_value(rig.url,
                    "SELECT string_agg(reason, ' | ' ORDER BY reason) FROM exportd_ack_files"
                    " WHERE verdict = 'INVALID'") ==
        "'erp_order_id' holds a NUL character (\\u0000), which the database cannot store | "
        "'message' holds a NUL character (\\u0000), which the database cannot store | "
        "the file name is not valid UTF-8");
  const auto third = rig.poll();
  CHECK(third.processed + third.refused + third.unsettled == 0);
}

TEST_CASE("ack store: a record the database refuses does not roll back the rest of the batch",
          "[ack]") {
  Rig rig(false);
  const auto ids = seed_exports(rig.url, rig.org, 3, 1);
  mark_sent(rig.url, ids);
  std::vector<AckFileRecord> batch;
  for (size_t i = 0; i < ids.size(); ++i) {
    AckFileRecord r{.file_name = "ack_" + rig.stem(ids[i]) + ".json",
                    .byte_size = 10,
                    .sha256_hex = std::string(64, 'a'),
                    .verdict = AckFileVerdict::acked,
                    .export_id = ids[i]};
    // The parser refuses this; a store must survive what slips through anyway.
    r.content = AckContent{AckKind::ack, i == 1 ? std::string("SO\0x", 4) : "SO-1", nullptr};
    batch.push_back(std::move(r));
  }
  const auto result = rig.store.record(rig.org.connection_id, batch);
  CHECK(result.results == std::vector<RecordResult>(3, RecordResult::recorded));
  CHECK(result.dispositions == std::vector<AckDisposition>{AckDisposition::processed,
                                                           AckDisposition::error,
                                                           AckDisposition::processed});
  REQUIRE(result.refused.size() == 3);
  CHECK(result.refused[0].empty());
  CHECK(result.refused[1].find("the database refused it: ") == 0);
  CHECK(result.refused[2].empty());
  CHECK(export_value(rig.url, ids[0], "status") == "ACKED");
  CHECK(export_value(rig.url, ids[1], "status") == "SENT");
  CHECK(export_value(rig.url, ids[2], "status") == "ACKED");
  CHECK(count_audit(rig.url, "EXPORT_ACKED") == "2");
  CHECK(query_value(rig.url,
                    "SELECT verdict || ' ' || disposition FROM exportd_ack_files"
                    " WHERE erp_export_id = '" +
                        ids[1] + "'") == "INVALID error");
  // Seen again (a crash before the move): the earlier disposition, nothing applied twice.
  const auto again = rig.store.record(rig.org.connection_id, batch);
  CHECK(again.results == std::vector<RecordResult>(3, RecordResult::seen_before));
  CHECK(again.dispositions == result.dispositions);
}

TEST_CASE("ack poller: failing ack polls never pause deliveries", "[ack]") {
  Rig rig(false);
  // The ack path is a plain file: every poll of it fails.
  fs::remove_all(rig.ack_dir);
  std::ofstream(rig.ack_dir) << "not a directory";
  rig.poller->start();
  const auto last_error = [&] {
    return query_value(rig.url, "SELECT last_ack_poll_error FROM erp_connections WHERE id = '" +
                                    rig.org.connection_id + "'");
  };
  REQUIRE(eventually([&] { return !last_error().empty(); }, std::chrono::seconds(10)));
  rig.poller->stop();
  // The delivery breaker, and so its metric, never heard of it.
  CHECK(rig.metrics.health_changes().empty());
  fs::remove(rig.ack_dir);
}

TEST_CASE("ack poller: a connection with an ack_schedule is polled only in its minutes",
          "[ack][cron]") {
  Rig rig(false);
  query_value(rig.url,
              "UPDATE erp_connections SET config = config || "
              "'{\"ack_schedule\": {\"cron\": \"0 9 * * *\", \"timezone\": \"UTC\"}}' RETURNING 1");
  const std::string control_acks = make_temp_dir("exportd-control-acks");
  const auto control = seed_org(rig.url, "control", control_acks + "/exports", control_acks);
  const auto ids = seed_exports(rig.url, rig.org, 1, 1);
  mark_sent(rig.url, ids);
  rig.drop("ack_" + rig.stem(ids[0]) + ".json", kAck);
  const auto polled_at = [&](const std::string& connection_id) {
    return query_value(
        rig.url, "SELECT last_ack_poll_at FROM erp_connections WHERE id = '" + connection_id + "'");
  };

  // Two seconds before 09:00 UTC: the unscheduled connection is polled at
  // once, the scheduled one waits for its minute.
  const auto nine =
      std::chrono::sys_days(std::chrono::year(2026) / 11 / 23) + std::chrono::hours(9);
  std::atomic<std::chrono::system_clock::time_point> wall{nine - std::chrono::seconds(2)};
  AckPoller poller(
      {.now = [&] { return wall.load(); }},
      [&](int) { return std::make_unique<PgAckStore>(rig.url); }, *rig.unused_cache, rig.metrics,
      rig.health);
  poller.start();
  REQUIRE(eventually([&] { return !polled_at(control.connection_id).empty(); },
                     std::chrono::seconds(10)));
  CHECK(polled_at(rig.org.connection_id).empty());
  CHECK(export_value(rig.url, ids[0], "status") == "SENT");

  wall = nine + std::chrono::seconds(1);
  REQUIRE(eventually([&] { return export_value(rig.url, ids[0], "status") == "ACKED"; },
                     std::chrono::seconds(10)));
  poller.stop();
  CHECK_FALSE(polled_at(rig.org.connection_id).empty());
  fs::remove_all(control_acks);
  fs::remove_all(rig.ack_dir);
}
