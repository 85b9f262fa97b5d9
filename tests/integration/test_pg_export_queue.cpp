// PgExportQueue and the migrator against a real throwaway PostgreSQL cluster.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "adapters/postgres/migrator.h"
#include "adapters/postgres/pg_export_queue.h"
#include "domain/failure.h"
#include "tests/support/failure_kind.h"
#include "tests/support/pg_cluster.h"
#include "tests/support/seed.h"

using namespace exportd;
using namespace exportd::testing;
using namespace std::chrono_literals;

namespace {

struct QueueFixture {
  std::string url = PgCluster::shared().fresh_database();
  SeededOrg org = seed_org(url, "acme", "/tmp/exportd-none/exports", "/tmp/exportd-none/acks");
};

}  // namespace

TEST_CASE("migrations apply once and are safe to run again and concurrently", "[postgres]") {
  auto& cluster = PgCluster::shared();
  const std::string name = "migrate_concurrent";
  {
    pqxx::connection conn(cluster.url());
    pqxx::nontransaction tx(conn);
    tx.exec("CREATE DATABASE " + name);
  }
  std::vector<std::thread> runners;
  std::atomic<int> applied_total{0};
  for (int i = 0; i < 3; ++i) {
    runners.emplace_back([&] {
      applied_total += static_cast<int>(
          apply_migrations(cluster.url(name), EXPORTD_SOURCE_MIGRATIONS_DIR).size());
    });
  }
  for (auto& t : runners) {
    t.join();
  }
  const auto files =
      std::distance(std::filesystem::directory_iterator(EXPORTD_SOURCE_MIGRATIONS_DIR),
                    std::filesystem::directory_iterator());
  CHECK(applied_total == files);
  CHECK(apply_migrations(cluster.url(name), EXPORTD_SOURCE_MIGRATIONS_DIR).empty());
  CHECK(query_value(cluster.url(name), "SELECT count(*) FROM exportd_schema_migrations") ==
        std::to_string(files));
}

TEST_CASE("claim leases due exports, counts the attempt and fixes the file name once",
          "[postgres]") {
  QueueFixture f;
  const auto ids = seed_exports(f.url, f.org, 3, 2);
  PgExportQueue queue(f.url, "worker-a");
  const auto claimed = queue.claim({.max = 10, .lease = 30s});
  REQUIRE(claimed.size() == 3);
  for (const auto& c : claimed) {
    CHECK(c.attempts == 1);
    CHECK(c.file_name.starts_with("sales_order_" + c.draft_order_id + "_"));
    CHECK(c.file_name.ends_with(c.export_id.substr(0, 8) + ".json"));
    CHECK(c.file_name[c.file_name.size() - 14] == '_');
    CHECK(query_value(f.url, "SELECT file_name FROM erp_exports WHERE id = '" + c.export_id +
                                 "'") == c.file_name);
    // The name's time is the first attempt's, truncated to the second (never rounded up).
    const auto stamp = query_value(f.url,
                                   "SELECT to_char(first_attempt_at AT TIME ZONE 'UTC', "
                                   "'YYYYMMDD_HH24MISS') FROM erp_exports WHERE id = '" +
                                       c.export_id + "'");
    CHECK_THAT(c.file_name, Catch::Contains("_" + stamp + "_"));
    CHECK(c.source.lines.size() == 2);
    CHECK(c.source.org_slug == "acme");
    CHECK(c.source.approved_at == std::optional<std::string>("2025-12-26T10:00:00Z"));
    REQUIRE(c.source.customer.has_value());
    CHECK(c.source.customer->name == "ACME \"Quoted\" GmbH");
    REQUIRE(c.connection_config.has_value());
    CHECK(nlohmann::json::parse(*c.connection_config)["mode"] == "filesystem");
  }
  // Leased: a second worker gets nothing.
  PgExportQueue other(f.url, "worker-b");
  CHECK(other.claim({.max = 10, .lease = 30s}).empty());

  // The lease lapses: the other worker takes over, same name, attempt 2.
  {
    pqxx::connection conn(f.url);
    pqxx::work tx(conn);
    tx.exec("UPDATE erp_exports SET lease_expires_at = now() - interval '1 second'");
    tx.commit();
  }
  const auto retaken = other.claim({.max = 10, .lease = 30s});
  REQUIRE(retaken.size() == 3);
  std::set<std::string> first_names, second_names;
  for (size_t i = 0; i < 3; ++i) {
    first_names.insert(claimed[i].file_name);
    second_names.insert(retaken[i].file_name);
    CHECK(retaken[i].attempts == 2);
  }
  CHECK(first_names == second_names);

  // The first worker lost its lease: its completion is not recorded.
  const auto lost = queue.record_sent({{claimed[0].export_id, "/x", "ab", 1}});
  CHECK(lost == std::vector<std::string>{claimed[0].export_id});
  CHECK(query_value(f.url, "SELECT count(*) FROM erp_exports WHERE status = 'SENT'") == "0");
}

TEST_CASE("concurrent claims never hand one export to two workers", "[postgres]") {
  QueueFixture f;
  seed_exports(f.url, f.org, 200, 1);
  std::mutex mutex;
  std::multiset<std::string> seen;
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, w] {
      PgExportQueue queue(f.url, "worker-" + std::to_string(w));
      for (;;) {
        const auto batch = queue.claim({.max = 7, .lease = 30s});
        if (batch.empty()) {
          return;
        }
        std::lock_guard lock(mutex);
        for (const auto& c : batch) {
          seen.insert(c.export_id);
        }
      }
    });
  }
  for (auto& t : workers) {
    t.join();
  }
  CHECK(seen.size() == 200);
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == 200);
}

TEST_CASE("record_sent sets SENT, draft PUSHED and writes the audit entry in one go",
          "[postgres]") {
  QueueFixture f;
  seed_exports(f.url, f.org, 1, 1);
  PgExportQueue queue(f.url, "worker-a");
  const auto claimed = queue.claim({.max = 1, .lease = 30s});
  REQUIRE(claimed.size() == 1);
  const auto& c = claimed[0];
  CHECK(queue.record_sent({{c.export_id, "/drop/" + c.file_name, "abc123", 42}}).empty());
  const std::string where = " FROM erp_exports WHERE id = '" + c.export_id + "'";
  CHECK(query_value(f.url, "SELECT status" + where) == "SENT");
  CHECK(query_value(f.url, "SELECT dropzone_path" + where) == "/drop/" + c.file_name);
  CHECK(query_value(f.url, "SELECT sha256" + where) == "abc123");
  CHECK(query_value(f.url, "SELECT byte_size" + where) == "42");
  CHECK(query_value(f.url, "SELECT sent_at IS NOT NULL" + where) == "t");
  CHECK(query_value(f.url, "SELECT lease_owner" + where).empty());
  CHECK(query_value(f.url, "SELECT status FROM draft_orders WHERE id = '" + c.draft_order_id +
                               "'") == "PUSHED");
  CHECK(query_value(f.url,
                    "SELECT details->>'export_id' FROM audit_log WHERE action = "
                    "'DRAFT_PUSHED' AND entity_id = '" +
                        c.draft_order_id + "'") == c.export_id);
}

TEST_CASE("record_sent stores each archived copy's location, NULL where there is none",
          "[postgres][archive]") {
  QueueFixture f;
  seed_exports(f.url, f.org, 2, 1);
  PgExportQueue queue(f.url, "worker-a");
  const auto claimed = queue.claim({.max = 2, .lease = 30s});
  REQUIRE(claimed.size() == 2);
  CHECK(queue
            .record_sent({{claimed[0].export_id, "/p/a", "d", 1, "exports/acme/2026/11/23/a.json"},
                          {claimed[1].export_id, "/p/b", "d", 1}})
            .empty());
  CHECK(query_value(f.url, "SELECT archive_key FROM erp_exports WHERE id = '" +
                               claimed[0].export_id + "'") == "exports/acme/2026/11/23/a.json");
  CHECK(query_value(f.url, "SELECT archive_key IS NULL FROM erp_exports WHERE id = '" +
                               claimed[1].export_id + "'") == "t");
}

TEST_CASE("an export queued by plain SQL for an APPROVED draft still ends PUSHED", "[postgres]") {
  QueueFixture f;
  seed_exports(f.url, f.org, 1, 1);
  {
    pqxx::connection conn(f.url);
    pqxx::work tx(conn);
    tx.exec("ALTER TABLE draft_orders DISABLE TRIGGER draft_orders_transition");
    tx.exec("UPDATE draft_orders SET status = 'APPROVED'");
    tx.exec("ALTER TABLE draft_orders ENABLE TRIGGER draft_orders_transition");
    tx.commit();
  }
  PgExportQueue queue(f.url, "w");
  const auto c = queue.claim({.max = 1, .lease = 30s}).at(0);
  queue.record_sent({{c.export_id, "/p", "d", 1}});
  CHECK(query_value(f.url, "SELECT status FROM draft_orders") == "PUSHED");
}

TEST_CASE("record_failure reschedules, or fails the export and errors the draft", "[postgres]") {
  QueueFixture f;
  seed_exports(f.url, f.org, 2, 1);
  PgExportQueue queue(f.url, "w");
  const auto claimed = queue.claim({.max = 2, .lease = 30s});
  REQUIRE(claimed.size() == 2);
  queue.record_failure({claimed[0].export_id, {{"error", "disk full"}}, 60000ms});
  const std::string first = " FROM erp_exports WHERE id = '" + claimed[0].export_id + "'";
  CHECK(query_value(f.url, "SELECT status" + first) == "PENDING");
  CHECK(query_value(f.url, "SELECT next_attempt_at > now() + interval '50 seconds'" + first) ==
        "t");
  CHECK(query_value(f.url, "SELECT lease_owner" + first).empty());
  CHECK(queue.claim({.max = 10, .lease = 30s}).empty());  // not due yet

  queue.record_failure({claimed[1].export_id, {{"error", "outside roots"}}, std::nullopt});
  const std::string second = " FROM erp_exports WHERE id = '" + claimed[1].export_id + "'";
  CHECK(query_value(f.url, "SELECT status" + second) == "FAILED");
  CHECK(query_value(f.url, "SELECT error_json->>'error'" + second) == "outside roots");
  CHECK(query_value(f.url, "SELECT status FROM draft_orders WHERE id = '" +
                               claimed[1].draft_order_id + "'") == "ERROR");
  CHECK(query_value(f.url, "SELECT count(*) FROM audit_log WHERE action = 'DRAFT_PUSH_FAILED'") ==
        "1");
}

TEST_CASE("an inactive connection arrives without settings", "[postgres]") {
  QueueFixture f;
  seed_exports(f.url, f.org, 1, 1);
  query_value(f.url, "UPDATE erp_connections SET is_active = false RETURNING 1");
  PgExportQueue queue(f.url, "w");
  const auto claimed = queue.claim({.max = 1, .lease = 30s});
  REQUIRE(claimed.size() == 1);
  CHECK_FALSE(claimed[0].connection_config.has_value());
}

TEST_CASE("state rules are enforced by the database", "[postgres]") {
  QueueFixture f;
  seed_exports(f.url, f.org, 1, 1);
  CHECK_THROWS_WITH(query_value(f.url, "UPDATE draft_orders SET status = 'READY' RETURNING 1"),
                    Catch::Contains("cannot go from PUSHING to READY"));
  CHECK_THROWS_WITH(query_value(f.url, "UPDATE erp_exports SET status = 'ACKED' RETURNING 1"),
                    Catch::Contains("cannot go from PENDING to ACKED"));
}

TEST_CASE("an unreachable database is a transient failure", "[postgres]") {
  PgExportQueue queue("postgresql://postgres@127.0.0.1:1/none?connect_timeout=2", "w");
  try {
    queue.claim({.max = 1, .lease = 30s});
    FAIL("claim should have thrown");
  } catch (const Failure& e) {
    CHECK(e.kind() == FailureKind::transient);
  } catch (const pqxx::broken_connection&) {
    FAIL("library exception escaped the adapter");
  }
}

TEST_CASE("a database error that will not go away is a permanent failure", "[postgres]") {
  QueueFixture f;
  seed_exports(f.url, f.org, 2, 1);
  PgExportQueue queue(f.url, "w");
  const auto claimed = queue.claim({.max = 1, .lease = 30s});
  REQUIRE(claimed.size() == 1);
  // An operator's rule that the daemon's write breaks: no retry can help.
  query_value(f.url,
              "ALTER TABLE audit_log ADD CONSTRAINT no_failures"
              " CHECK (action <> 'DRAFT_PUSH_FAILED')");
  CHECK(kind_of([&] {
          queue.record_failure({claimed[0].export_id, {{"error", "x"}}, std::nullopt});
        }) == FailureKind::permanent);
  // A schema the daemon does not know: an undefined column.
  query_value(f.url, "ALTER TABLE draft_order_lines RENAME COLUMN uom TO unit");
  CHECK(kind_of([&] { queue.claim({.max = 1, .lease = 30s}); }) == FailureKind::permanent);
}

TEST_CASE("a claimed document is one snapshot while a writer edits header and lines",
          "[postgres]") {
  QueueFixture f;
  const auto ids = seed_exports(f.url, f.org, 4, 8);
  std::atomic<bool> done{false};
  std::atomic<bool> edited{false};
  std::thread writer([&] {
    pqxx::connection conn(f.url);
    for (int n = 1; !done; ++n) {
      pqxx::work tx(conn);
      tx.exec_params("UPDATE draft_orders SET notes = 'v' || $1", n);
      tx.exec_params("UPDATE draft_order_lines SET description = 'v' || $1", n);
      tx.commit();
      edited = true;
    }
  });
  // The seeded notes and descriptions differ: claim only once they agree.
  while (!edited) {
    std::this_thread::sleep_for(1ms);
  }
  PgExportQueue queue(f.url, "w");
  int documents = 0, mixed = 0;
  for (int round = 0; round < 100; ++round) {
    for (const auto& c : queue.claim({.max = ids.size(), .lease = 30s})) {
      ++documents;
      for (const auto& line : c.source.lines) {
        if (line.description != c.source.notes) {
          ++mixed;
          break;
        }
      }
      queue.postpone(c.export_id, 0ms);
    }
  }
  done = true;
  writer.join();
  CHECK(documents == 100 * static_cast<int>(ids.size()));
  CHECK(mixed == 0);
}

TEST_CASE("postpone releases a claim without counting the attempt", "[postgres]") {
  QueueFixture f;
  const auto ids = seed_exports(f.url, f.org, 2, 1);
  PgExportQueue queue(f.url, "worker-a");
  auto claimed = queue.claim({.max = 10, .lease = 30s});
  REQUIRE(claimed.size() == 2);
  queue.postpone(ids[0], 0ms);
  queue.postpone(ids[1], 3600s);
  PgExportQueue other(f.url, "worker-b");
  other.postpone(ids[0], 0ms);  // not its lease: nothing happens
  claimed = queue.claim({.max = 10, .lease = 30s});
  REQUIRE(claimed.size() == 1);
  CHECK(claimed[0].export_id == ids[0]);
  CHECK(claimed[0].attempts == 1);
  CHECK(query_value(f.url, "SELECT attempts FROM erp_exports WHERE id = '" + ids[1] + "'") == "0");
  CHECK(query_value(f.url,
                    "SELECT next_attempt_at > now() + interval '50 minutes'"
                    " FROM erp_exports WHERE id = '" +
                        ids[1] + "'") == "t");
}

TEST_CASE("renew extends the leases their owners hold, whoever asks; leases in milliseconds",
          "[postgres]") {
  QueueFixture f;
  const auto ids = seed_exports(f.url, f.org, 2, 1);
  PgExportQueue worker(f.url, "worker-a");
  const auto claimed = worker.claim({.max = 10, .lease = 1500ms});
  REQUIRE(claimed.size() == 2);
  CHECK(claimed[0].lease_owner == "worker-a");
  const auto lease_left = [&](const std::string& id) {
    return query_value(f.url,
                       "SELECT extract(epoch FROM lease_expires_at - now())::int"
                       " FROM erp_exports WHERE id = '" +
                           id + "'");
  };
  CHECK((lease_left(ids[1]) == "1" || lease_left(ids[1]) == "2"));
  // The keeper's own connection renews a worker's lease, and only as its holder's.
  PgExportQueue keeper(f.url, "keeper");
  CHECK(keeper.renew({{ids[0], "worker-a"}, {ids[1], "worker-b"}}, 3600s) == 1);
  CHECK(lease_left(ids[0]) == "3600");
  CHECK(lease_left(ids[1]) != "3600");

  // An export its holder is recording right now is left to it, without waiting.
  pqxx::connection holder(f.url);
  pqxx::work recording(holder);
  recording.exec("SELECT 1 FROM erp_exports WHERE id = '" + ids[0] + "' FOR UPDATE");
  CHECK(keeper.renew({{ids[0], "worker-a"}}, 60s) == 0);
  recording.abort();
  CHECK(keeper.renew({{ids[0], "worker-a"}}, 60s) == 1);
}

TEST_CASE("a claim carries the connection's sealed secret byte for byte", "[postgres]") {
  QueueFixture f;
  seed_exports(f.url, f.org, 1, 1);
  query_value(f.url, "UPDATE erp_connections SET secret = '\\x00ff10'::bytea RETURNING 1");
  PgExportQueue queue(f.url, "worker-a");
  const auto claimed = queue.claim({.max = 10, .lease = 30s});
  REQUIRE(claimed.size() == 1);
  CHECK(claimed[0].connection_secret == std::string("\x00\xff\x10", 3));
}

namespace {

// Orgs with one connection each, sorted by connection id (the order of a lap).
std::vector<SeededOrg> seed_orgs(const std::string& url, int count) {
  std::vector<SeededOrg> orgs;
  for (int i = 0; i < count; ++i) {
    orgs.push_back(seed_org(url, "org-" + std::to_string(i), "/tmp/exportd-none/exports",
                            "/tmp/exportd-none/acks"));
  }
  std::sort(orgs.begin(), orgs.end(),
            [](const auto& a, const auto& b) { return a.connection_id < b.connection_id; });
  return orgs;
}

// Their connections now go to SFTP servers: each claim is one connection's.
void make_servers(const std::string& url, const std::vector<SeededOrg>& orgs) {
  for (const auto& org : orgs) {
    query_value(url,
                "UPDATE erp_connections SET config = jsonb_build_object('mode', 'sftp', 'host', "
                "'erp.example', 'username', 'u', 'private_key_path', '/k', 'export_path', '/in', "
                "'ack_path', '/out') WHERE id = '" +
                    org.connection_id + "' RETURNING 1");
  }
}

std::set<std::string> connections_of(const std::vector<ClaimedExport>& batch) {
  std::set<std::string> connections;
  for (const auto& c : batch) {
    connections.insert(c.connection_id);
  }
  return connections;
}

}  // namespace

TEST_CASE("claims of servers serve one connection each, round-robin, whatever one has queued",
          "[postgres][fair]") {
  const std::string url = PgCluster::shared().fresh_database();
  const auto orgs = seed_orgs(url, 3);
  make_servers(url, orgs);
  // The backlog is the oldest work, and its connection comes first in a lap.
  seed_exports(url, orgs[0], 300, 1);
  seed_exports(url, orgs[1], 1, 1);
  seed_exports(url, orgs[2], 2, 1);
  PgExportQueue queue(url, "worker-a");

  std::vector<std::string> served;
  std::string after;
  for (int round = 0; round < 4; ++round) {
    const auto batch = queue.claim({.max = 10, .lease = 30s, .after_connection = after});
    REQUIRE(connections_of(batch).size() == 1);
    after = batch.front().connection_id;
    served.push_back(after);
  }
  // The others' exports go in the first lap, one batch each; the backlog's
  // connection gets its one batch per lap, and the next lap starts again.
  CHECK(served == std::vector<std::string>{orgs[0].connection_id, orgs[1].connection_id,
                                           orgs[2].connection_id, orgs[0].connection_id});
  CHECK(query_value(url, "SELECT count(*) FROM erp_exports WHERE lease_owner IS NOT NULL") == "23");
  // A lap starting after the last connection wraps round to the first.
  const auto wrapped =
      queue.claim({.max = 10, .lease = 30s, .after_connection = orgs[2].connection_id});
  CHECK(connections_of(wrapped) == std::set<std::string>{orgs[0].connection_id});
}

TEST_CASE("a claim passes over excluded connections", "[postgres][fair]") {
  const std::string url = PgCluster::shared().fresh_database();
  const auto orgs = seed_orgs(url, 3);
  make_servers(url, orgs);
  for (const auto& org : orgs) {
    seed_exports(url, org, 2, 1);
  }
  PgExportQueue queue(url, "worker-a");
  CHECK(connections_of(queue.claim(
            {.max = 10,
             .lease = 30s,
             .excluded_connections = {orgs[0].connection_id, orgs[1].connection_id}})) ==
        std::set<std::string>{orgs[2].connection_id});
  CHECK(connections_of(queue.claim({.max = 10, .lease = 30s})) ==
        std::set<std::string>{orgs[0].connection_id});
  // Only excluded work left: nothing, though it is due.
  CHECK(queue.claim({.max = 10, .lease = 30s, .excluded_connections = {orgs[1].connection_id}})
            .empty());
}

TEST_CASE("a claim passes over a connection whose due exports a racing claimer holds",
          "[postgres][fair]") {
  const std::string url = PgCluster::shared().fresh_database();
  const auto orgs = seed_orgs(url, 2);
  make_servers(url, orgs);
  seed_exports(url, orgs[0], 5, 1);
  seed_exports(url, orgs[1], 5, 1);
  // Another host's claim of the first connection, not yet committed.
  pqxx::connection other(url);
  pqxx::work racing(other);
  racing.exec_params(
      "SELECT id FROM erp_exports WHERE erp_connection_id = $1 AND status = 'PENDING' FOR UPDATE",
      orgs[0].connection_id);

  PgExportQueue queue(url, "worker-a");
  const auto batch = queue.claim({.max = 10, .lease = 30s});
  CHECK(connections_of(batch) == std::set<std::string>{orgs[1].connection_id});
  CHECK(batch.size() == 5);
  racing.abort();
}

TEST_CASE("a claim reaches the connection after a long run of ones with nothing due",
          "[postgres][fair]") {
  const std::string url = PgCluster::shared().fresh_database();
  const auto orgs = seed_orgs(url, 40);
  make_servers(url, orgs);
  for (size_t i = 0; i + 1 < orgs.size(); ++i) {
    seed_exports(url, orgs[i], 3, 1);
  }
  // Every connection but the last waits for a retry.
  query_value(url, "UPDATE erp_exports SET next_attempt_at = now() + interval '1 hour'");
  seed_exports(url, orgs.back(), 1, 1);
  PgExportQueue queue(url, "worker-a");
  CHECK(connections_of(queue.claim({.max = 10, .lease = 30s})) ==
        std::set<std::string>{orgs.back().connection_id});
}

TEST_CASE("local directories share a claim, round-robin; a server's claims are its own",
          "[postgres][fair]") {
  const std::string url = PgCluster::shared().fresh_database();
  const auto orgs = seed_orgs(url, 5);
  for (const auto& org : orgs) {
    seed_exports(url, org, 3, 1);
  }
  // The third goes to an SFTP server; the fifth's directory is failing.
  make_servers(url, {orgs[2]});
  PgExportQueue queue(url, "worker-a");
  const std::vector<std::string> failing{orgs[4].connection_id};
  // From the first, a local directory: the lap's local ones, one export of
  // each per turn (the server and the failing directory passed over).
  const auto mixed = queue.claim({.max = 4, .lease = 30s, .unbatchable_connections = failing});
  REQUIRE(mixed.size() == 4);
  std::map<std::string, int> per_connection;
  for (const auto& c : mixed) {
    ++per_connection[c.connection_id];
  }
  CHECK(per_connection.size() == 3);
  CHECK(per_connection.contains(orgs[3].connection_id));
  for (const auto& [connection, n] : per_connection) {
    CHECK(n <= 2);
  }
  // Starting at the server: its exports alone.
  const auto alone = queue.claim({.max = 4,
                                  .lease = 30s,
                                  .after_connection = orgs[1].connection_id,
                                  .unbatchable_connections = failing});
  CHECK(connections_of(alone) == std::set<std::string>{orgs[2].connection_id});
  CHECK(alone.size() == 3);
  // Starting at the failing directory: its exports alone.
  const auto failing_alone = queue.claim({.max = 10,
                                          .lease = 30s,
                                          .after_connection = orgs[3].connection_id,
                                          .unbatchable_connections = failing});
  CHECK(connections_of(failing_alone) == std::set<std::string>{orgs[4].connection_id});
}
