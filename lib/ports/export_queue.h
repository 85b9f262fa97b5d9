// Port: the export queue and the delivery records (Postgres in production).
// Every method may throw exportd::Failure(transient) when the store is
// unreachable; callers retry later, the leases make that safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/export_document.h"

namespace exportd {

// One export claimed by a worker: leased to it, attempts already counted.
struct ClaimedExport {
  std::string export_id;
  std::string draft_order_id;
  std::string org_id;
  std::string connection_id;
  std::string file_name;    // fixed at the first attempt
  std::string lease_owner;  // who holds the lease (the claiming queue)
  int attempts = 0;         // including this one
  // erp_connections.config as stored (JSON text); nullopt when the connection
  // is missing or inactive (a permanent failure). Parsed by the app, once per
  // change (ConnectionSettingsCache).
  std::optional<std::string> connection_config;
  // erp_connections.secret as stored (sealed); empty when there is none.
  std::string connection_secret;
  ExportSource source;
};

// A claimed export and the owner of its lease, for renewals.
struct LeaseHolder {
  std::string export_id;
  std::string owner;
};

// What one claim may take. A claim starts at one connection: the first, in
// id order after `after_connection` and wrapping around, with a due export
// that no racing claimer holds, so claims that pass the previous claim's
// connection serve connections round-robin, whatever one of them has queued.
// The batch is up to `max` of that connection's due exports, oldest first;
// when it is batchable, the batch also takes the next batchable
// connections' exports, round-robin among them (each one's oldest, then
// each one's second...). Batchable are the connections to local directories
// (their calls cannot hang on a server) but for those listed here as failing:
// a batch never makes one connection's exports wait behind another's slow
// server.
struct ClaimRequest {
  size_t max = 32;
  std::chrono::milliseconds lease{30000};
  std::string after_connection;  // empty: from the first connection
  std::vector<std::string> excluded_connections;
  std::vector<std::string> unbatchable_connections;
};

struct DeliveryRecord {
  std::string export_id;
  std::string dropzone_path;
  std::string sha256_hex;
  std::int64_t byte_size = 0;
  std::string archive_key;  // where the archived copy is; empty: not archived
};

struct FailureRecord {
  std::string export_id;
  nlohmann::json error;  // stored in error_json
  // Set: retry at now + delay. Unset: give up (export FAILED, draft ERROR).
  std::optional<std::chrono::milliseconds> retry_after;
};

class ExportQueue {
 public:
  virtual ~ExportQueue() = default;

  // Leases up to `request.max` due, unleased PENDING exports of one
  // connection, or of several batchable ones (see ClaimRequest); empty when
  // no connection has any.
  virtual std::vector<ClaimedExport> claim(const ClaimRequest& request) = 0;

  // Extends each lease its owner still holds; returns how many were. Any
  // owner's, so one queue can keep the claims of many workers alive. Never
  // waits for an export its holder is recording or releasing right now.
  virtual size_t renew(const std::vector<LeaseHolder>& leases, std::chrono::milliseconds lease) = 0;

  // In one transaction: each export still leased to us becomes SENT, its
  // draft PUSHED, with an audit entry. Returns the ids that lost their lease
  // (another worker took them over; their delivery is not recorded here).
  virtual std::vector<std::string> record_sent(const std::vector<DeliveryRecord>& deliveries) = 0;

  // Releases a failed attempt: back to PENDING for later, or FAILED with the
  // draft ERROR and audit DRAFT_PUSH_FAILED. Fenced by the lease like record_sent.
  virtual void record_failure(const FailureRecord& failure) = 0;

  // Releases a claimed export without counting the attempt: PENDING again,
  // due after `delay` (its connection is paused, or the daemon is stopping).
  // Fenced by the lease like record_sent.
  virtual void postpone(const std::string& export_id, std::chrono::milliseconds delay) = 0;
};

}  // namespace exportd
