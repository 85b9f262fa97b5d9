// approve / push / retry against a real PostgreSQL and a real redis-server
// (stopped mid-test to prove the fallback), and the status figures.
#include <catch2/catch.hpp>
#include <thread>

#include <nlohmann/json.hpp>

#include "adapters/postgres/pg_circuit_log.h"
#include "adapters/postgres/pg_draft_store.h"
#include "adapters/redis/redis_idempotency_store.h"
#include "app/draft_commands.h"
#include "tests/support/failure_kind.h"
#include "tests/support/pg_cluster.h"
#include "tests/support/redis_server.h"
#include "tests/support/seed.h"

using namespace exportd;
using namespace exportd::testing;
using namespace std::chrono_literals;

namespace {

const std::string kActor = "11111111-2222-3333-4444-555555555555";

struct DraftFixture {
  std::string url = PgCluster::shared().fresh_database();
  SeededOrg org = seed_org(url, "acme", "/tmp/exportd-none/exports", "/tmp/exportd-none/acks");
  PgDraftStore drafts{url};

  std::string draft(const std::string& status) const {
    return query_value(url, "INSERT INTO draft_orders (org_id, status) VALUES ('" + org.org_id +
                                "', '" + status + "') RETURNING id");
  }
  std::string count(const std::string& sql) const { return query_value(url, sql); }
};

}  // namespace

TEST_CASE("approve: READY only, with the actor in the audit log", "[drafts]") {
  DraftFixture f;
  const auto id = f.draft("READY");
  approve_draft(f.drafts, id, kActor);
  CHECK(f.count("SELECT status FROM draft_orders WHERE id = '" + id + "'") == "APPROVED");
  CHECK(f.count("SELECT approved_by_user_id FROM draft_orders WHERE id = '" + id + "'") == kActor);
  CHECK(f.count("SELECT actor_user_id FROM audit_log WHERE action = 'DRAFT_APPROVED'") == kActor);
  CHECK(kind_of([&] { approve_draft(f.drafts, id, kActor); }) == FailureKind::refused);
  CHECK(kind_of([&] { approve_draft(f.drafts, "not-a-uuid", kActor); }) == FailureKind::bad_config);
  CHECK(kind_of([&] { approve_draft(f.drafts, kActor, kActor); }) == FailureKind::bad_config);
}

TEST_CASE("push: concurrent pushes of one draft create one export", "[drafts]") {
  DraftFixture f;
  const auto id = f.draft("APPROVED");
  std::atomic<int> created{0}, refused{0};
  std::vector<std::thread> pushers;
  for (int i = 0; i < 8; ++i) {
    pushers.emplace_back([&] {
      PgDraftStore own(f.url);
      try {
        push_draft(own, nullptr, {.draft_id = id, .from = DraftStatus::approved, .actor = kActor},
                   60s);
        ++created;
      } catch (const Failure& e) {
        if (e.kind() == FailureKind::refused) {
          ++refused;
        }
      }
    });
  }
  for (auto& t : pushers) {
    t.join();
  }
  CHECK(created == 1);
  CHECK(refused == 7);
  CHECK(f.count("SELECT count(*) FROM erp_exports WHERE draft_order_id = '" + id + "'") == "1");
  CHECK(f.count("SELECT status FROM draft_orders WHERE id = '" + id + "'") == "PUSHING");
  CHECK(f.count("SELECT count(*) FROM audit_log WHERE action = 'DRAFT_PUSH_REQUESTED'") == "1");
}

TEST_CASE("push is refused without an active connection; retry keeps the failed export",
          "[drafts]") {
  DraftFixture f;
  const auto failed = f.draft("ERROR");
  query_value(f.url,
              "INSERT INTO erp_exports (org_id, erp_connection_id, draft_order_id, status)"
              " VALUES ('" +
                  f.org.org_id + "', '" + f.org.connection_id + "', '" + failed +
                  "', 'FAILED') RETURNING 1");
  const auto result =
      push_draft(f.drafts, nullptr, {.draft_id = failed, .from = DraftStatus::error}, 60s);
  CHECK(f.count("SELECT count(*) FROM erp_exports WHERE draft_order_id = '" + failed + "'") == "2");
  CHECK(f.count("SELECT status FROM erp_exports WHERE id = '" + result.export_id + "'") ==
        "PENDING");

  query_value(f.url, "UPDATE erp_connections SET is_active = false RETURNING 1");
  const auto approved = f.draft("APPROVED");
  CHECK(kind_of([&] {
          push_draft(f.drafts, nullptr, {.draft_id = approved, .from = DraftStatus::approved}, 60s);
        }) == FailureKind::refused);
  CHECK(f.count("SELECT status FROM draft_orders WHERE id = '" + approved + "'") == "APPROVED");
}

TEST_CASE("idempotency keys in redis: the same key, the same export; redis down falls back",
          "[drafts][redis]") {
  DraftFixture f;
  RedisServer redis;
  RedisIdempotencyStore store(redis.url());
  const auto id = f.draft("APPROVED");
  const PushRequest request{.draft_id = id, .from = DraftStatus::approved, .idempotency_key = "k1"};

  const auto first = push_draft(f.drafts, &store, request, 86400s);
  const auto again = push_draft(f.drafts, &store, request, 86400s);
  CHECK_FALSE(first.repeated);
  CHECK(again.repeated);
  CHECK(again.export_id == first.export_id);
  CHECK(store.get("idempotency:" + id + ":k1") == first.export_id);
  CHECK(f.count("SELECT count(*) FROM erp_exports WHERE draft_order_id = '" + id + "'") == "1");

  // Redis gone: the draft's state still refuses a second push.
  redis.stop();
  CHECK(kind_of([&] { store.get("x"); }) == FailureKind::transient);
  CHECK(kind_of([&] { push_draft(f.drafts, &store, request, 86400s); }) == FailureKind::refused);
  const auto other = f.draft("APPROVED");
  const auto without_redis =
      push_draft(f.drafts, &store,
                 {.draft_id = other, .from = DraftStatus::approved, .idempotency_key = "k1"}, 60s);
  CHECK_FALSE(without_redis.repeated);

  // Redis back, empty: the state rule still holds the line.
  redis.start();
  CHECK(kind_of([&] { push_draft(f.drafts, &store, request, 86400s); }) == FailureKind::refused);
}

TEST_CASE("status: queue depth, oldest PENDING, recent failures, ack polls", "[drafts]") {
  DraftFixture f;
  seed_exports(f.url, f.org, 3, 1);
  query_value(f.url,
              "UPDATE erp_exports SET created_at = now() - interval '90 seconds'"
              " RETURNING 1");
  query_value(f.url,
              "UPDATE erp_connections SET last_ack_poll_at = now(),"
              " last_ack_poll_error = 'cannot list', config = config ||"
              " '{\"delivery_schedule\": {\"cron\": \"0 6 * * *\", \"timezone\": \"UTC\"}}'"
              " RETURNING 1");
  const auto report = f.drafts.status_report();
  CHECK(report.queue.exports_by_status.at(ExportStatus::pending) == 3);
  CHECK(report.queue.exports_by_status.at(ExportStatus::acked) == 0);
  REQUIRE(report.queue.oldest_pending_age);
  CHECK(*report.queue.oldest_pending_age >= 90s);
  CHECK(report.failed_last_24h == 0);
  REQUIRE(report.connections.size() == 1);
  CHECK(report.connections[0].org == "acme");
  CHECK(report.connections[0].active);
  CHECK(report.connections[0].last_ack_poll_at);
  CHECK(report.connections[0].last_ack_poll_error == "cannot list");
  // The stored settings, from which status finds the next delivery window.
  const auto config = nlohmann::json::parse(report.connections[0].config);
  CHECK(config["delivery_schedule"]["cron"] == "0 6 * * *");
}

TEST_CASE("status: in-flight exports and the circuit state a daemon published", "[drafts]") {
  DraftFixture f;
  const auto other = seed_org(f.url, "zeta", "/tmp/exportd-none/z", "/tmp/exportd-none/za");
  seed_exports(f.url, f.org, 4, 1);
  // Two claimed with a running lease, one whose lease lapsed.
  query_value(f.url,
              "UPDATE erp_exports SET lease_owner = 'w', lease_expires_at = now() + interval '1 "
              "minute' WHERE id IN (SELECT id FROM erp_exports ORDER BY id LIMIT 2) RETURNING 1");
  query_value(f.url,
              "UPDATE erp_exports SET lease_owner = 'w', lease_expires_at = now() - interval '1 "
              "minute' WHERE id IN (SELECT id FROM erp_exports WHERE lease_owner IS NULL"
              " ORDER BY id LIMIT 1) RETURNING 1");
  PgCircuitLog circuits(f.url, "host-a:41");
  const auto at = std::chrono::sys_days(std::chrono::year(2026) / 11 / 24) + 3h;
  circuits.publish({{f.org.connection_id, CircuitBreaker::State::closed, 1, at}});
  circuits.publish({{f.org.connection_id, CircuitBreaker::State::open, 3, at + 1s},
                    // A connection deleted meanwhile is passed over.
                    {"00000000-0000-4000-8000-000000000000", CircuitBreaker::State::open, 3, at}});

  const auto report = f.drafts.status_report();
  REQUIRE(report.connections.size() == 2);
  const auto& acme = report.connections[0];
  CHECK(acme.in_flight == 2);
  REQUIRE(acme.circuit);
  CHECK(acme.circuit->state == "open");
  CHECK(acme.circuit->consecutive_failures == 3);
  CHECK(acme.circuit->since == "2026-11-24T03:00:01Z");
  CHECK(acme.circuit->reported_by == "host-a:41");
  CHECK(report.connections[1].connection_id == other.connection_id);
  CHECK(report.connections[1].in_flight == 0);
  CHECK_FALSE(report.connections[1].circuit);
}
