// The figures of `status` and the metrics at any history size: finished
// exports are counted by triggers as they come and go (migration 0008). The
// counts must equal the rows, whoever changes them and however many at once.
#include <catch2/catch.hpp>

#include <atomic>
#include <pqxx/pqxx>
#include <random>
#include <thread>

#include "adapters/postgres/pg_draft_store.h"
#include "adapters/postgres/pg_export_queue.h"
#include "adapters/postgres/pg_queue_stats.h"
#include "adapters/postgres/pg_retention_store.h"
#include "tests/support/pg_cluster.h"
#include "tests/support/seed.h"

using namespace exportd;
using namespace exportd::testing;
using namespace std::chrono_literals;

namespace {

// One statement, so one snapshot: both sides see the same committed rows.
constexpr const char* kCountsMatchRows =
    "SELECT (SELECT sum(acked) FROM exportd_finished_counts)"
    "         = (SELECT count(*) FROM erp_exports WHERE status = 'ACKED')"
    "   AND (SELECT sum(failed) FROM exportd_finished_counts)"
    "         = (SELECT count(*) FROM erp_exports WHERE status = 'FAILED')";

std::map<ExportStatus, long long> rows_by_status(const std::string& url) {
  std::map<ExportStatus, long long> rows;
  for (const auto status : kExportStatuses) {
    rows[status] = std::stoll(query_value(url, "SELECT count(*) FROM erp_exports WHERE status = '" +
                                                   std::string(to_string(status)) + "'"));
  }
  return rows;
}

struct CountsFixture {
  std::string url = PgCluster::shared().fresh_database();
  SeededOrg org = seed_org(url, "acme", "/tmp/acme/exports", "/tmp/acme/acks");
  PgQueueStats stats{url};

  std::map<ExportStatus, long long> counted() {
    const auto snapshot = stats.snapshot();
    REQUIRE(snapshot.has_value());
    return snapshot->exports_by_status;
  }
};

}  // namespace

TEST_CASE("finished exports are counted through inserts, updates, deletes and truncation",
          "[postgres][counts]") {
  CountsFixture f;
  const auto ids = seed_exports(f.url, f.org, 6, 1);
  mark_sent(f.url, {ids[0], ids[1], ids[2], ids[3]});
  query_value(f.url, "UPDATE erp_exports SET status = 'ACKED', acked_at = now() WHERE id IN ('" +
                         ids[0] + "', '" + ids[1] + "')");
  query_value(f.url, "UPDATE erp_exports SET status = 'FAILED' WHERE id IN ('" + ids[2] + "', '" +
                         ids[4] + "')");
  // Finished rows written directly, as an import from elsewhere would.
  query_value(f.url,
              "INSERT INTO erp_exports (org_id, erp_connection_id, draft_order_id, status)"
              " SELECT org_id, erp_connection_id, draft_order_id, 'ACKED' FROM erp_exports");
  CHECK(f.counted() == std::map<ExportStatus, long long>{{ExportStatus::pending, 1},
                                                         {ExportStatus::sent, 1},
                                                         {ExportStatus::acked, 8},
                                                         {ExportStatus::failed, 2}});
  // A change that leaves the status alone, and one rolled back, count nothing.
  query_value(f.url, "UPDATE erp_exports SET error_json = '{}' WHERE status = 'FAILED'");
  {
    pqxx::connection conn(f.url);
    pqxx::work tx(conn);
    tx.exec("UPDATE erp_exports SET status = 'FAILED' WHERE status = 'SENT'");
    tx.exec("DELETE FROM erp_exports WHERE status = 'ACKED'");
    tx.abort();
  }
  CHECK(f.counted() == rows_by_status(f.url));
  query_value(f.url,
              "DELETE FROM erp_exports WHERE status = 'ACKED' AND draft_order_id = (SELECT "
              "draft_order_id FROM erp_exports WHERE id = '" +
                  ids[0] + "')");
  CHECK(f.counted() == rows_by_status(f.url));
  CHECK(f.counted().at(ExportStatus::acked) == 6);
  query_value(f.url, "TRUNCATE erp_exports CASCADE");
  CHECK(f.counted() == std::map<ExportStatus, long long>{{ExportStatus::pending, 0},
                                                         {ExportStatus::sent, 0},
                                                         {ExportStatus::acked, 0},
                                                         {ExportStatus::failed, 0}});
}

TEST_CASE("the counts stay exact while workers, acks, retries and retention change exports at once",
          "[postgres][counts]") {
  CountsFixture f;
  seed_exports(f.url, f.org, 400, 1);
  std::atomic<bool> stop{false};
  std::atomic<int> mismatches{0};
  std::atomic<int> checks{0};
  std::atomic<size_t> pruned{0};
  std::vector<std::jthread> threads;
  // Workers, as the daemon runs them: delivered (SENT) or given up (FAILED).
  for (int w = 0; w < 3; ++w) {
    threads.emplace_back([&, w] {
      PgExportQueue queue(f.url, "worker-" + std::to_string(w));
      std::mt19937 random(static_cast<unsigned>(w));
      while (!stop) {
        std::vector<DeliveryRecord> delivered;
        for (const auto& claimed : queue.claim({.max = 8, .lease = 30s})) {
          if (random() % 3 == 0) {
            queue.record_failure({claimed.export_id, {{"code", "GIVEN_UP"}}, std::nullopt});
          } else {
            delivered.push_back({claimed.export_id, "/x/" + claimed.file_name, "ab", 1, ""});
          }
        }
        if (!delivered.empty()) {
          queue.record_sent(delivered);
        }
      }
    });
  }
  // Answers: batches of SENT exports ACKED or FAILED in one statement, some
  // of them rolled back.
  threads.emplace_back([&] {
    pqxx::connection conn(f.url);
    for (int round = 0; !stop; ++round) {
      pqxx::work tx(conn);
      tx.exec(std::string("UPDATE erp_exports SET status = ") +
              (round % 3 == 0 ? "'FAILED'" : "'ACKED', acked_at = now()") +
              " WHERE id IN (SELECT id FROM erp_exports WHERE status = 'SENT' LIMIT 5"
              "              FOR UPDATE SKIP LOCKED)");
      if (round % 5 == 4) {
        tx.abort();
      } else {
        tx.commit();
      }
    }
  });
  // Retries of the drafts whose export failed: a new PENDING export each,
  // which also makes the failed one superseded, so retention may remove it.
  threads.emplace_back([&] {
    PgDraftStore drafts(f.url);
    pqxx::connection conn(f.url);
    while (!stop) {
      const auto errored = pqxx::nontransaction(conn).exec(
          "SELECT id FROM draft_orders WHERE status = 'ERROR' LIMIT 5");
      for (const auto& row : errored) {
        drafts.enqueue(row[0].as<std::string>(), DraftStatus::error, std::nullopt);
      }
    }
  });
  threads.emplace_back([&] {
    PgRetentionStore retention(f.url);
    while (!stop) {
      PruneCursor cursor;
      PruneBatch batch;
      do {
        batch = retention.prune_rows(PruneKind::exports, std::chrono::system_clock::now() + 1h, 7,
                                     cursor, false);
        pruned += batch.removed;
      } while (!batch.done && !stop);
    }
  });
  threads.emplace_back([&] {
    pqxx::connection conn(f.url);
    while (!stop) {
      if (!pqxx::nontransaction(conn).exec1(kCountsMatchRows)[0].as<bool>()) {
        ++mismatches;
      }
      ++checks;
    }
  });
  std::this_thread::sleep_for(8s);
  stop = true;
  threads.clear();

  CHECK(checks > 0);
  CHECK(mismatches == 0);
  const auto rows = rows_by_status(f.url);
  CHECK(f.counted() == rows);
  // Every path above actually ran.
  CHECK(rows.at(ExportStatus::acked) > 0);
  CHECK(rows.at(ExportStatus::failed) > 0);
  CHECK(std::stoll(query_value(
            f.url, "SELECT count(*) FROM audit_log WHERE action = 'DRAFT_PUSH_REQUESTED'")) > 0);
  CHECK(pruned > 0);
}
