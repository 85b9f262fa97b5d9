// Port: one export's record and what happened to it (erp_exports,
// exportd_ack_files, audit_log in Postgres), for the `show` and `resend`
// commands. Implementations throw exportd::Failure: transient when the
// database cannot be reached, permanent for any other database error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/status.h"
#include "ports/connection_store.h"

namespace exportd {

// Times are UTC text with milliseconds, "2026-11-23T10:00:00.123Z".
struct ExportRecord {
  std::string export_id;
  std::string org_id;
  std::string org_slug;
  std::string connection_id;
  std::string draft_id;
  ExportStatus status = ExportStatus::pending;
  int attempts = 0;
  std::optional<std::string> file_name;
  std::optional<std::string> dropzone_path;  // where it was delivered
  std::optional<std::string> sha256;
  std::optional<std::int64_t> byte_size;
  std::optional<std::string> archive_key;
  std::optional<std::string> erp_order_id;
  nlohmann::json error_json;  // null when none was recorded
  std::string created_at;
  std::optional<std::string> first_attempt_at;
  std::optional<std::string> sent_at;
  std::optional<std::string> acked_at;
};

// A handled ack file that named the export.
struct HandledAckFile {
  std::string file_name;
  std::string verdict;  // ACKED, REJECTED, REPEAT, CONTRADICTION, ...
  std::optional<std::string> reason;
  std::string disposition;  // processed, error
  std::string handled_at;
  std::int64_t byte_size = 0;
  std::string sha256;
};

struct AuditRecord {
  std::string at;
  std::string action;
  std::string entity_type;  // erp_export, draft_order
  std::string entity_id;
  std::optional<std::string> actor;
  nlohmann::json details;  // null when none
};

struct ExportStory {
  ExportRecord record;
  std::vector<HandledAckFile> ack_files;  // in the order they were handled
  // The export's own entries and its draft's entries that name it in
  // details.export_id, in the order they were written.
  std::vector<AuditRecord> audit;
};

class ExportHistory {
 public:
  virtual ~ExportHistory() = default;

  // nullopt when there is no such export.
  virtual std::optional<ExportRecord> find(const std::string& export_id) = 0;
  virtual std::optional<ExportStory> story(const std::string& export_id) = 0;

  // The connection with its current settings and sealed secret. Throws
  // Failure(bad_config) when it no longer exists.
  virtual StoredConnection connection(const std::string& connection_id) = 0;

  // Audit EXPORT_RESENT on the export: `actor` (may be unset), and in the
  // details the file name, sha256, archive key and the path written.
  virtual void record_resent(const ExportRecord& record, const std::optional<std::string>& actor,
                             const std::string& path) = 0;
};

}  // namespace exportd
