// Many tenants on one queue: the daemon binary serving hundreds of orgs,
// some of whose servers never answer, one with a backlog, a thousand
// connections' answers (bench/README.md, "Many tenants").
#pragma once

#include <string>

#include "tests/support/pg_cluster.h"

namespace exportd::bench {

struct TenantOptions {
  std::string binary;  // the daemon
  int workers = 4;
  int lines = 2;
  int tenants = 0;          // healthy orgs with local dropzones; 0 skips the part
  int bad_orgs = 20;        // with a frozen SFTP server, and as many with a closed port
  int arrival_s = 20;       // the 20 exports of each org arrive over this long
  int backlog = 0;          // one org's queue; 0 skips the part
  int trickle_orgs = 50;    // other orgs, one export each 100 ms while the backlog drains
  int ack_connections = 0;  // connections with one answer each; 0 skips the part
};

// Healthy orgs' insert-to-SENT without and with the bad orgs (each run on a
// fresh database and daemon), then, with them, the time until one answer
// per healthy connection is applied.
void run_tenants_part(const TenantOptions& o, testing::PgCluster& cluster, const std::string& dir);

// The others' insert-to-SENT while one org's backlog drains.
void run_backlog_part(const TenantOptions& o, testing::PgCluster& cluster, const std::string& dir);

// Time until one answer in each of `ack_connections` ack directories is applied.
void run_ack_connections_part(const TenantOptions& o, testing::PgCluster& cluster,
                              const std::string& dir);

}  // namespace exportd::bench
