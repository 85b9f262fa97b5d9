// Latencies come from the database's own clock (created_at to sent_at), so
// the bench's polling adds nothing to them. Every wait is bounded: a figure
// that was not reached is printed as such, never waited for.
#include "bench_tenants.h"

#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <pqxx/pqxx>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/process.h"
#include "tests/support/seed.h"
#include "tests/support/sshd_server.h"

namespace exportd::bench {

namespace {

using namespace exportd::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string pg_array(const std::vector<std::string>& items) {
  std::string text = "{";
  for (const auto& item : items) {
    text.append(text.size() > 1 ? "," : "").append(item);
  }
  return text + "}";
}

std::vector<std::string> ids_of(const std::vector<SeededOrg>& orgs) {
  std::vector<std::string> ids;
  for (const auto& org : orgs) {
    ids.push_back(org.org_id);
  }
  return ids;
}

// The daemon as in production, but quiet: warnings only, no metrics port.
std::string write_config(const std::string& dir, const std::string& url, const TenantOptions& o) {
  std::string path = dir + "/exportd.toml";
  std::ofstream(path) << "[database]\nurl = \"" << url << "\"\n[export]\nworkers = " << o.workers
                      << "\nfilesystem_roots = [\"" << dir << "/dropzone\"]\n"
                      << "[sftp]\nknown_hosts = \"/dev/null\"\n"
                      << "[log]\nlevel = \"warn\"\n[metrics]\nlisten = \"\"\n";
  return path;
}

// Orgs with local dropzones, their acks polled every `ack_poll_interval_s`.
std::vector<SeededOrg> local_orgs(const std::string& url, const std::string& dir,
                                  const std::string& prefix, int count, int ack_poll_interval_s) {
  std::vector<SeededOrg> orgs;
  pqxx::connection conn(url);
  for (int i = 0; i < count; ++i) {
    const std::string slug = prefix + std::to_string(i);
    const std::string root = dir + "/dropzone/" + slug;
    orgs.push_back(seed_org(url, slug, root + "/exports", root + "/acks"));
    fs::create_directories(root + "/acks");
  }
  pqxx::work tx(conn);
  tx.exec_params(
      "UPDATE erp_connections SET config = config || jsonb_build_object('ack_poll_interval_s', "
      "$2::int) WHERE org_id = ANY($1::uuid[])",
      pg_array(ids_of(orgs)), ack_poll_interval_s);
  tx.commit();
  return orgs;
}

// Orgs whose connection goes to `config` (an SFTP server), one directory each.
std::vector<SeededOrg> sftp_orgs(const std::string& url, SshdServer& sshd,
                                 const std::string& prefix, int count,
                                 const std::function<void(nlohmann::json&)>& adjust) {
  std::vector<SeededOrg> orgs;
  for (int i = 0; i < count; ++i) {
    const std::string slug = prefix + std::to_string(i);
    auto org = seed_org(url, slug, "/unused", "/unused");
    nlohmann::json config = sshd.connection_config(sshd.user_dir(slug));
    config["ack_poll_interval_s"] = 5;
    adjust(config);
    query_value(url, "UPDATE erp_connections SET config = '" + config.dump() + "' WHERE id = '" +
                         org.connection_id + "' RETURNING 1");
    orgs.push_back(org);
  }
  return orgs;
}

// One PENDING export (a draft with `lines` lines) for each org, in one
// statement, as many applications inserting at once would.
void insert_one_each(pqxx::connection& conn, const std::vector<SeededOrg>& orgs, int lines) {
  std::vector<std::string> org_ids, customers, connections;
  for (const auto& org : orgs) {
    org_ids.push_back(org.org_id);
    customers.push_back(org.customer_id);
    connections.push_back(org.connection_id);
  }
  pqxx::work tx(conn);
  tx.exec_params(
      "WITH o AS (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[])"
      "             AS o(org_id, customer_id, connection_id)),"
      " drafts AS ("
      "  INSERT INTO draft_orders (org_id, customer_id, status, external_order_number,"
      "                            order_date, currency, approved_at)"
      "  SELECT org_id, customer_id, 'PUSHING', 'PO-1', DATE '2025-12-20', 'EUR',"
      "         TIMESTAMPTZ '2025-12-26 10:00:00Z' FROM o RETURNING id, org_id),"
      " line_rows AS ("
      "  INSERT INTO draft_order_lines (draft_order_id, line_no, internal_sku, description, qty,"
      "                                 uom, unit_price)"
      "  SELECT d.id, l, 'SKU-' || l, 'Widget ' || l, 10, 'EA', 1.23"
      "    FROM drafts d, generate_series(1, $4) l)"
      " INSERT INTO erp_exports (org_id, erp_connection_id, draft_order_id)"
      " SELECT d.org_id, o.connection_id, d.id FROM drafts d JOIN o ON o.org_id = d.org_id",
      pg_array(org_ids), pg_array(customers), pg_array(connections), lines);
  tx.commit();
}

long long count_where(pqxx::connection& conn, const std::vector<SeededOrg>& orgs,
                      const std::string& condition) {
  pqxx::nontransaction tx(conn);
  return tx
      .exec_params(
          "SELECT count(*) FROM erp_exports WHERE org_id = ANY($1::uuid[]) AND " + condition,
          pg_array(ids_of(orgs)))[0][0]
      .as<long long>();
}

struct Latency {
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  long long sent = 0;
};

Latency insert_to_sent(pqxx::connection& conn, const std::vector<SeededOrg>& orgs) {
  std::vector<double> ms;
  pqxx::nontransaction tx(conn);
  for (const auto& row :
       tx.exec_params("SELECT extract(epoch FROM sent_at - created_at) * 1000 FROM erp_exports"
                      " WHERE org_id = ANY($1::uuid[]) AND sent_at IS NOT NULL",
                      pg_array(ids_of(orgs)))) {
    ms.push_back(row[0].as<double>());
  }
  std::sort(ms.begin(), ms.end());
  const auto pct = [&](double p) {
    return ms.empty() ? 0.0
                      : ms[std::min(ms.size() - 1,
                                    static_cast<size_t>(p * static_cast<double>(ms.size())))];
  };
  return {pct(0.50), pct(0.99), ms.empty() ? 0.0 : ms.back(), static_cast<long long>(ms.size())};
}

// Waits until `done` or `limit` passed, polling gently; true when done.
bool wait_for(const std::function<bool()>& done, std::chrono::seconds limit) {
  const auto start = Clock::now();
  while (!done()) {
    if (Clock::now() - start > limit) {
      return false;
    }
    std::this_thread::sleep_for(200ms);  // polling must not steal the CPU it measures
  }
  return true;
}

// Each org's 20 exports arrive over the arrival period: every 100 ms one
// export for a tenth of the orgs, in turn.
void arrive(pqxx::connection& conn, const std::vector<SeededOrg>& orgs, const TenantOptions& o) {
  constexpr int kPerOrg = 20;
  constexpr int kSlices = 10;
  const int rounds = kPerOrg * kSlices;
  const auto tick = std::chrono::milliseconds(o.arrival_s * 1000 / rounds);
  const auto start = Clock::now();
  for (int round = 0; round < rounds; ++round) {
    std::vector<SeededOrg> slice;
    for (size_t i = static_cast<size_t>(round % kSlices); i < orgs.size(); i += kSlices) {
      slice.push_back(orgs[i]);
    }
    insert_one_each(conn, slice, o.lines);
    std::this_thread::sleep_until(start + tick * (round + 1));
  }
}

void print_latency(const char* what, const Latency& l, long long expected) {
  std::printf("  %-44s p50 %8.1f ms, p99 %8.1f ms, max %8.1f ms (%lld of %lld SENT)\n", what,
              l.p50_ms, l.p99_ms, l.max_ms, l.sent, expected);
}

// One run of the tenants part; with the bad orgs, also their answers.
void tenants_run(const TenantOptions& o, PgCluster& cluster, const std::string& dir,
                 SshdServer* frozen) {
  const std::string url = cluster.fresh_database();
  const std::string run_dir = dir + (frozen ? "/with" : "/without");
  fs::create_directories(run_dir + "/dropzone");
  const auto healthy = local_orgs(url, run_dir, "t", o.tenants, 5);
  std::vector<SeededOrg> bad;
  if (frozen != nullptr) {
    bad = sftp_orgs(url, *frozen, "frozen", o.bad_orgs, [](nlohmann::json&) {});
    const int closed_port = free_port();  // bound and released: nothing listens there
    const auto refused = sftp_orgs(url, *frozen, "closed", o.bad_orgs,
                                   [&](nlohmann::json& c) { c["port"] = closed_port; });
    bad.insert(bad.end(), refused.begin(), refused.end());
    frozen->freeze();
  }
  std::vector<SeededOrg> everyone = healthy;
  everyone.insert(everyone.end(), bad.begin(), bad.end());
  // Interleaved, so bad orgs' exports sit among the healthy ones.
  std::vector<SeededOrg> order;
  for (size_t i = 0; i < everyone.size(); ++i) {
    order.push_back(everyone[(i * 7919) % everyone.size()]);
  }
  const auto config = write_config(run_dir, url, o);
  pqxx::connection conn(url);
  Process daemon(
      {.argv = {o.binary, "run", "--config", config}, .stderr_path = run_dir + "/daemon.log"});
  std::this_thread::sleep_for(1s);  // started: the figures are about serving, not starting
  arrive(conn, order, o);
  const long long expected = static_cast<long long>(healthy.size()) * 20;
  wait_for([&] { return count_where(conn, healthy, "sent_at IS NOT NULL") >= expected; }, 120s);
  print_latency(frozen ? "healthy orgs, with the 40 bad orgs:" : "healthy orgs, alone:",
                insert_to_sent(conn, healthy), expected);
  if (frozen != nullptr) {
    // One answer per healthy connection, all at once.
    std::vector<std::string> answers;
    {
      pqxx::nontransaction tx(conn);
      for (const auto& row :
           tx.exec_params("SELECT DISTINCT ON (e.org_id) o.slug, e.file_name FROM erp_exports e"
                          "  JOIN orgs o ON o.id = e.org_id"
                          " WHERE e.org_id = ANY($1::uuid[]) AND e.status = 'SENT'"
                          " ORDER BY e.org_id, e.sent_at",
                          pg_array(ids_of(healthy)))) {
        answers.push_back(run_dir + "/dropzone/" + row[0].as<std::string>() + "/acks/ack_" +
                          row[1].as<std::string>());
      }
    }
    const auto start = Clock::now();
    for (const auto& path : answers) {
      std::ofstream(path)
          << R"({"status":"ACKED","erp_order_id":"SO-1","processed_at":"2025-12-26T10:01:00Z"})";
    }
    const auto answered = static_cast<long long>(answers.size());
    const bool all =
        wait_for([&] { return count_where(conn, healthy, "status = 'ACKED'") >= answered; }, 120s);
    std::printf(
        "  one answer per healthy connection (%lld), polled every 5 s: %s in %.1f s "
        "(%lld applied)\n",
        answered, all ? "all applied" : "NOT all applied", seconds_since(start),
        count_where(conn, healthy, "status = 'ACKED'"));
    std::printf("  the bad orgs' exports meanwhile: %lld PENDING, %lld FAILED\n",
                count_where(conn, bad, "status = 'PENDING'"),
                count_where(conn, bad, "status = 'FAILED'"));
    frozen->thaw();
  }
  daemon.signal(SIGTERM);
  daemon.wait(30s);
}

}  // namespace

void run_tenants_part(const TenantOptions& o, PgCluster& cluster, const std::string& dir) {
  std::printf(
      "many tenants: %d orgs with local dropzones, 20 exports each over %d s, workers = %d\n",
      o.tenants, o.arrival_s, o.workers);
  tenants_run(o, cluster, dir + "/tenants", nullptr);
  SshdServer sshd;
  std::printf("  (then %d orgs on one frozen SFTP server and %d on a closed port join)\n",
              o.bad_orgs, o.bad_orgs);
  tenants_run(o, cluster, dir + "/tenants", &sshd);
}

void run_backlog_part(const TenantOptions& o, PgCluster& cluster, const std::string& dir) {
  const std::string url = cluster.fresh_database();
  const std::string run_dir = dir + "/backlog";
  fs::create_directories(run_dir + "/dropzone");
  const auto big = local_orgs(url, run_dir, "backlog", 1, 60);
  const auto others = local_orgs(url, run_dir, "trickle", o.trickle_orgs, 60);
  seed_exports(url, big.front(), o.backlog, o.lines);
  const auto config = write_config(run_dir, url, o);
  pqxx::connection conn(url);
  const auto start = Clock::now();
  Process daemon(
      {.argv = {o.binary, "run", "--config", config}, .stderr_path = run_dir + "/daemon.log"});
  long long trickled = 0;
  while (count_where(conn, big, "status = 'SENT'") < o.backlog && seconds_since(start) < 300) {
    insert_one_each(conn, {others[static_cast<size_t>(trickled) % others.size()]}, o.lines);
    ++trickled;
    std::this_thread::sleep_for(100ms);
  }
  const double drained_s = seconds_since(start);
  wait_for([&] { return count_where(conn, others, "status = 'SENT'") >= trickled; }, 60s);
  std::printf("one org's backlog of %d and %d other orgs, one export each 100 ms meanwhile:\n",
              o.backlog, o.trickle_orgs);
  std::printf("  backlog drained in %.1f s (%.0f exports/s, %lld of %d SENT)\n", drained_s,
              static_cast<double>(o.backlog) / drained_s, count_where(conn, big, "status = 'SENT'"),
              o.backlog);
  print_latency("the other orgs' exports, insert-to-SENT:", insert_to_sent(conn, others), trickled);
  daemon.signal(SIGTERM);
  daemon.wait(30s);
}

void run_ack_connections_part(const TenantOptions& o, PgCluster& cluster, const std::string& dir) {
  const std::string url = cluster.fresh_database();
  const std::string run_dir = dir + "/ack-connections";
  fs::create_directories(run_dir + "/dropzone");
  const auto orgs = local_orgs(url, run_dir, "a", o.ack_connections, 5);
  pqxx::connection conn(url);
  insert_one_each(conn, orgs, o.lines);
  {
    pqxx::work tx(conn);
    tx.exec(
        "UPDATE erp_exports SET status = 'SENT', sent_at = now(),"
        "       file_name = 'sales_order_' || id || '.json'");
    tx.exec("UPDATE draft_orders SET status = 'PUSHED'");
    tx.commit();
  }
  const auto config = write_config(run_dir, url, o);
  Process daemon(
      {.argv = {o.binary, "run", "--config", config}, .stderr_path = run_dir + "/daemon.log"});
  std::this_thread::sleep_for(2s);  // running, its first polls done
  const auto start = Clock::now();
  {
    pqxx::nontransaction tx(conn);
    for (const auto& row :
         tx.exec("SELECT o.slug, e.id FROM erp_exports e JOIN orgs o ON o.id = e.org_id")) {
      std::ofstream(run_dir + "/dropzone/" + row[0].as<std::string>() + "/acks/ack_sales_order_" +
                    row[1].as<std::string>() + ".json")
          << R"({"status":"ACKED","erp_order_id":"SO-1","processed_at":"2025-12-26T10:01:00Z"})";
    }
  }
  const double written_s = seconds_since(start);
  const auto total = static_cast<long long>(orgs.size());
  const bool all =
      wait_for([&] { return count_where(conn, orgs, "status = 'ACKED'") >= total; }, 120s);
  std::printf(
      "%lld connections, one answer each, polled every 5 s: %s %.1f s after the first was "
      "written (writing them took %.1f s; %lld applied)\n",
      total, all ? "all applied" : "NOT all applied", seconds_since(start), written_s,
      count_where(conn, orgs, "status = 'ACKED'"));
  daemon.signal(SIGTERM);
  daemon.wait(30s);
}

}  // namespace exportd::bench
