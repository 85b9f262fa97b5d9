// The ack deadline sweep against a real PostgreSQL: alert once, fail with
// the draft ERROR and a retry, 0 = never, a connection's own deadline over
// the daemon's, one sweeper at a time, finished exports never touched, the
// overdue figures of `status` and the metrics, and a late answer after a
// timeout read by the real ack poller.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <future>
#include <set>

#include <pqxx/pqxx>

#include "adapters/filesystem/filesystem_dropzone.h"
#include "adapters/postgres/pg_ack_deadlines.h"
#include "adapters/postgres/pg_ack_store.h"
#include "adapters/postgres/pg_draft_store.h"
#include "adapters/postgres/pg_queue_stats.h"
#include "app/ack_poller.h"
#include "domain/connection_settings.h"
#include "tests/fakes/fake_metrics.h"
#include "tests/support/files.h"
#include "tests/support/pg_cluster.h"
#include "tests/support/process.h"
#include "tests/support/seed.h"

using namespace exportd;
using namespace exportd::testing;
using namespace std::chrono_literals;

namespace {

// Every export below was sent at this instant or a given number of seconds
// after it; sweeps say how late "now" is.
const auto kSentEpoch = std::chrono::system_clock::time_point(1767225600s);  // 2026-01-01Z

struct DeadlineRig {
  std::string url = PgCluster::shared().fresh_database();
  std::string dir = make_temp_dir("exportd-deadlines");
  SeededOrg org = seed_org(url, "acme", dir + "/exports", dir + "/acks");
  PgAckDeadlines deadlines{url};

  DeadlineRig() { std::filesystem::create_directories(dir + "/acks"); }
  ~DeadlineRig() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  DeadlineRig(const DeadlineRig&) = delete;
  DeadlineRig& operator=(const DeadlineRig&) = delete;

  // The connection's own settings, merged into its stored config.
  void configure(const SeededOrg& o, const std::string& json) const {
    query_value(url, "UPDATE erp_connections SET config = config || '" + json +
                         "'::jsonb WHERE id = '" + o.connection_id + "' RETURNING 1");
  }
  // `count` exports of `o`, SENT `seconds` after kSentEpoch.
  std::vector<std::string> sent(const SeededOrg& o, int count, int seconds) const {
    auto ids = seed_exports(url, o, count, 1);
    mark_sent(url, ids);
    std::string list;
    for (const auto& id : ids) {
      list.append(list.empty() ? "" : ",").append(id);
    }
    query_value(url, "UPDATE erp_exports SET sent_at = TIMESTAMPTZ '2026-01-01 00:00:00Z' + " +
                         std::to_string(seconds) + " * interval '1 second' WHERE id = ANY('{" +
                         list + "}'::uuid[]) RETURNING 1");
    return ids;
  }
  std::vector<AckDeadlineChange> sweep(std::chrono::seconds late,
                                       std::chrono::seconds default_timeout = 86400s,
                                       int max_exports = 1000) {
    auto changes = deadlines.sweep(kSentEpoch + late, default_timeout, max_exports);
    REQUIRE(changes);
    return *changes;
  }
  std::string value(const std::string& id, const std::string& column) const {
    return query_value(url, "SELECT " + column + " FROM erp_exports WHERE id = '" + id + "'");
  }
  std::string draft_status(const std::string& id) const {
    return query_value(url,
                       "SELECT d.status FROM draft_orders d JOIN erp_exports e"
                       " ON e.draft_order_id = d.id WHERE e.id = '" +
                           id + "'");
  }
  std::string audit(const std::string& action) const {
    return query_value(url, "SELECT count(*) FROM audit_log WHERE action = '" + action + "'");
  }
  // `{kind}_sales_order_{export_id}.json` with `answer` in the ack
  // directory, and one poll of it by the daemon's ack poller.
  AckPollSummary poll_answer(const std::string& kind, const std::string& export_id,
                             const std::string& answer) const {
    std::ofstream(dir + "/acks/" + kind + "_sales_order_" + export_id + ".json") << answer;
    FakeMetrics metrics;
    ConnectionHealth health(metrics);
    FilesystemDropzone filesystem({dir});
    DropzoneCache cache(
        filesystem, [](const ConnectionSettings&) { return nullptr; },
        [](const std::string& s) { return s; }, 1);
    AckPoller poller(
        {.now = [] { return kMovedAt; }}, [this](int) { return std::make_unique<PgAckStore>(url); },
        cache, metrics, health);
    PgAckStore store(url);
    ConnectionSettings settings;
    settings.export_path = dir + "/exports";
    settings.ack_path = dir + "/acks";
    return poller.poll_once(store, filesystem, org.connection_id, settings);
  }

  // Handled files go into the day folder of the move.
  static constexpr std::chrono::sys_days kMovedAt{std::chrono::year{2026} / 11 / 23};
  std::string processed() const { return dir + "/acks/processed/2026-11-23/"; }
  std::string error() const { return dir + "/acks/error/2026-11-23/"; }
};

std::set<std::string> ids_of(const std::vector<AckDeadlineChange>& changes) {
  std::set<std::string> ids;
  for (const auto& c : changes) {
    ids.insert(c.export_id);
  }
  return ids;
}

const std::string kLateAck =
    R"({"status":"ACKED","erp_order_id":"SO-9","processed_at":"2026-01-03T10:00:00Z"})";
const std::string kLateError =
    R"({"status":"FAILED","error_code":"ERP_VALIDATION","message":"Unknown customer 4711"})";

}  // namespace

TEST_CASE("ack deadlines: alert once, the export stays SENT, a late answer still applies",
          "[ack_deadlines]") {
  DeadlineRig rig;
  const auto early = rig.sent(rig.org, 1, 0).front();
  const auto later = rig.sent(rig.org, 1, 3000).front();

  CHECK(rig.sweep(3599s, 3600s).empty());
  const auto first = rig.sweep(3600s, 3600s);
  REQUIRE(first.size() == 1);
  CHECK(first[0] == AckDeadlineChange{.export_id = early,
                                      .org = "acme",
                                      .connection_id = rig.org.connection_id,
                                      .sent_at = "2026-01-01T00:00:00Z",
                                      .ack_timeout_s = 3600,
                                      .action = AckTimeoutAction::alert});
  CHECK(rig.value(early, "status") == "SENT");
  CHECK(rig.value(early, "ack_overdue_at = TIMESTAMPTZ '2026-01-01 01:00:00Z'") == "t");
  CHECK(rig.value(early, "error_json IS NULL") == "t");
  CHECK(rig.draft_status(early) == "PUSHED");
  CHECK(rig.audit("EXPORT_ACK_OVERDUE") == "1");
  CHECK(query_value(rig.url,
                    "SELECT details->>'ack_timeout_s' || ' ' || (details->>'sent_at') || ' ' ||"
                    "       (entity_id = '" +
                        early + "') FROM audit_log WHERE action = 'EXPORT_ACK_OVERDUE'") ==
        "3600 2026-01-01T00:00:00Z true");

  // Raised once: later sweeps pass it by; the second comes due in its turn.
  CHECK(rig.sweep(3650s, 3600s).empty());
  CHECK(ids_of(rig.sweep(7200s, 3600s)) == std::set<std::string>{later});
  CHECK(rig.sweep(90000s, 3600s).empty());
  CHECK(rig.audit("EXPORT_ACK_OVERDUE") == "2");

  // status and the metrics count them per connection, oldest first.
  PgQueueStats stats(rig.url);
  const auto snapshot = stats.snapshot();
  REQUIRE(snapshot);
  CHECK(snapshot->ack_overdue.at(rig.org.connection_id).exports == 2);
  CHECK(snapshot->ack_overdue.at(rig.org.connection_id).oldest_age >=
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() -
                                                         kSentEpoch) -
            5s);
  PgDraftStore drafts(rig.url);
  const auto report = drafts.status_report();
  REQUIRE(report.connections.size() == 1);
  CHECK(report.connections[0].ack_overdue.exports == 2);

  // The ERP answers late: applied as usual, and no longer counted.
  const auto polled = rig.poll_answer("ack", early, kLateAck);
  CHECK(polled.processed == 1);
  CHECK(rig.value(early, "status") == "ACKED");
  CHECK(rig.value(early, "erp_order_id") == "SO-9");
  CHECK(std::filesystem::exists(rig.processed() + "ack_sales_order_" + early + ".json"));
  CHECK(stats.snapshot()->ack_overdue.at(rig.org.connection_id).exports == 1);
}

TEST_CASE("ack deadlines: fail makes the export FAILED and the draft ERROR; retry; late answer",
          "[ack_deadlines]") {
  DeadlineRig rig;
  rig.configure(rig.org, R"({"ack_timeout_s": 60, "on_ack_timeout": "fail"})");
  const auto id = rig.sent(rig.org, 1, 0).front();

  CHECK(rig.sweep(59s).empty());
  const auto changes = rig.sweep(60s);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].action == AckTimeoutAction::fail);
  CHECK(changes[0].ack_timeout_s == 60);
  CHECK(rig.value(id, "status") == "FAILED");
  CHECK(nlohmann::json::parse(rig.value(id, "error_json")) ==
        nlohmann::json{
            {"code", "ACK_TIMEOUT"}, {"sent_at", "2026-01-01T00:00:00Z"}, {"ack_timeout_s", 60}});
  CHECK(rig.value(id, "acked_at IS NULL") == "t");
  CHECK(rig.draft_status(id) == "ERROR");
  CHECK(rig.audit("EXPORT_ACK_TIMEOUT") == "1");
  CHECK(rig.audit("EXPORT_ACK_OVERDUE") == "0");
  CHECK(rig.sweep(600s).empty());
  // A failed export is not overdue: it waits for nothing.
  CHECK(PgQueueStats(rig.url).snapshot()->ack_overdue.at(rig.org.connection_id).exports == 0);

  // The ERP answers after all, either way: a contradiction for error/, as
  // the daemon concluded it never answered; nothing changes.
  CHECK(rig.poll_answer("ack", id, kLateAck).refused == 1);
  CHECK(std::filesystem::exists(rig.error() + "ack_sales_order_" + id + ".json"));
  CHECK(rig.poll_answer("error", id, kLateError).refused == 1);
  CHECK(std::filesystem::exists(rig.error() + "error_sales_order_" + id + ".json"));
  CHECK(rig.value(id, "status") == "FAILED");
  CHECK(rig.value(id, "erp_order_id IS NULL") == "t");
  CHECK(rig.value(id, "error_json->>'code'") == "ACK_TIMEOUT");
  CHECK(rig.audit("EXPORT_ACKED") == "0");
  CHECK(rig.audit("EXPORT_REJECTED") == "0");
  CHECK(query_value(rig.url,
                    "SELECT string_agg(verdict || ' ' || reason, '; ' ORDER BY file_name)"
                    "  FROM exportd_ack_files") ==
        "CONTRADICTION the export is already FAILED: the ERP did not answer within its ack "
        "deadline; CONTRADICTION the export is already FAILED: the ERP did not answer within its "
        "ack deadline");

  // The operator retries the draft: a new export, the failed one kept.
  PgDraftStore drafts(rig.url);
  const auto draft = rig.value(id, "draft_order_id");
  const auto retried = drafts.enqueue(draft, DraftStatus::error, std::nullopt);
  CHECK(retried != id);
  CHECK(rig.value(retried, "status") == "PENDING");
  CHECK(rig.value(id, "status") == "FAILED");
}

TEST_CASE("ack deadlines: 0 is never; a connection's own deadline wins over the daemon's",
          "[ack_deadlines]") {
  DeadlineRig rig;
  const auto beta = seed_org(rig.url, "beta", rig.dir + "/b/exports", rig.dir + "/b/acks");
  const auto gamma = seed_org(rig.url, "gamma", rig.dir + "/g/exports", rig.dir + "/g/acks");
  rig.configure(rig.org, R"({"ack_timeout_s": 0})");  // never, whatever the daemon says
  rig.configure(beta, R"({"ack_timeout_s": 7200})");
  const auto never = rig.sent(rig.org, 1, 0).front();
  const auto own = rig.sent(beta, 1, 0).front();
  const auto by_default = rig.sent(gamma, 1, 0).front();

  // The daemon's default of 0: only the connection that sets its own.
  CHECK(ids_of(rig.sweep(1000000s, 0s)) == std::set<std::string>{own});
  CHECK(rig.value(by_default, "ack_overdue_at IS NULL") == "t");
  // A default of an hour: due for the connection without its own.
  const auto changes = rig.sweep(3600s, 3600s);
  CHECK(ids_of(changes) == std::set<std::string>{by_default});
  CHECK(changes[0].org == "gamma");
  CHECK(changes[0].ack_timeout_s == 3600);
  CHECK(rig.sweep(100000000s, 1s).empty());
  CHECK(rig.value(never, "ack_overdue_at IS NULL") == "t");
  CHECK(rig.value(never, "status") == "SENT");
}

TEST_CASE("ack deadlines: finished and unsent exports are never touched; batches are bounded",
          "[ack_deadlines]") {
  DeadlineRig rig;
  const auto ids = rig.sent(rig.org, 5, 0);
  query_value(rig.url, "UPDATE erp_exports SET status = 'ACKED', acked_at = sent_at WHERE id = '" +
                           ids[0] + "' RETURNING 1");
  query_value(rig.url,
              "UPDATE erp_exports SET status = 'FAILED', error_json = '{\"code\":\"X\"}' WHERE id "
              "= '" +
                  ids[1] + "' RETURNING 1");
  const auto pending = seed_exports(rig.url, rig.org, 1, 1).front();
  const auto finished = [&] {
    return query_value(
        rig.url,
        "SELECT string_agg(id::text || status || updated_at || coalesce(ack_overdue_at::"
        "text, '-') || coalesce(error_json::text, '-'), ',' ORDER BY id)"
        "  FROM erp_exports WHERE id IN ('" +
            ids[0] + "','" + ids[1] + "','" + pending + "')");
  };
  const auto before = finished();

  const auto first = rig.sweep(100000s, 60s, 2);
  const auto second = rig.sweep(100000s, 60s, 2);
  CHECK(first.size() == 2);
  CHECK(second.size() == 1);
  auto all = ids_of(first);
  all.merge(ids_of(second));
  CHECK(all == std::set<std::string>{ids[2], ids[3], ids[4]});
  CHECK(rig.sweep(100000s, 60s, 2).empty());
  CHECK(finished() == before);
}

TEST_CASE("ack deadlines: one sweeper at a time across hosts", "[ack_deadlines]") {
  DeadlineRig rig;
  rig.configure(rig.org, R"({"on_ack_timeout": "fail"})");
  rig.sent(rig.org, 2500, 0);

  // Another host in the middle of its sweep: this one skips the round.
  {
    pqxx::connection other(rig.url);
    pqxx::work tx(other);
    tx.exec("SELECT pg_advisory_xact_lock(7342, hashtext('ack deadlines'))");
    CHECK_FALSE(rig.deadlines.sweep(kSentEpoch + 100s, 60s, 1000));
    CHECK(rig.audit("EXPORT_ACK_TIMEOUT") == "0");
  }

  // Two sweepers at once, each until it runs dry or is turned away: every
  // export failed exactly once.
  const auto sweeper = [&] {
    PgAckDeadlines own(rig.url);
    std::vector<std::string> changed;
    const auto until = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < until) {
      const auto batch = own.sweep(kSentEpoch + 100s, 60s, 100);
      if (batch && batch->empty()) {
        break;
      }
      for (const auto& c : batch.value_or(std::vector<AckDeadlineChange>{})) {
        changed.push_back(c.export_id);
      }
    }
    return changed;
  };
  auto a = std::async(std::launch::async, sweeper);
  auto b = std::async(std::launch::async, sweeper);
  auto changed = a.get();
  const auto from_b = b.get();
  changed.insert(changed.end(), from_b.begin(), from_b.end());
  CHECK(changed.size() == 2500);
  CHECK(std::set<std::string>(changed.begin(), changed.end()).size() == 2500);
  CHECK(rig.audit("EXPORT_ACK_TIMEOUT") == "2500");
  CHECK(query_value(rig.url, "SELECT count(*) FROM erp_exports WHERE status = 'FAILED'") == "2500");
  CHECK(query_value(rig.url, "SELECT count(*) FROM draft_orders WHERE status = 'ERROR'") == "2500");
}
