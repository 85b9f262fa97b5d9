// Port: what the ack poller reads and records (Postgres in production).
// Every method may throw Failure(transient) when the store is unreachable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/ack_file.h"
#include "domain/status.h"

namespace exportd {

struct AckConnection {
  std::string connection_id;
  std::string config;  // erp_connections.config as stored (JSON text)
  std::string sealed_secret;
};

// The export an answer refers to.
struct AckTarget {
  std::string export_id;
  ExportStatus status;
  bool failed_by_ack_timeout = false;  // FAILED by its ack deadline, never answered
};

enum class AckDisposition { processed, error };

// One handled file, as recorded; `content` is set when the answer is to be
// applied to `export_id` (which must still be SENT).
struct AckFileRecord {
  std::string file_name;
  std::int64_t byte_size = 0;
  std::string sha256_hex;
  AckFileVerdict verdict = AckFileVerdict::invalid;
  std::string reason;
  std::optional<std::string> export_id;
  AckDisposition disposition = AckDisposition::processed;
  std::optional<AckContent> content;
};

// What became of one record.
enum class RecordResult {
  recorded,     // new: recorded (and applied); move the file as the record says
  seen_before,  // this very file was handled before: move it as it was then
  stale,        // the export left SENT meanwhile: nothing recorded, look again
};

class AckStore {
 public:
  virtual ~AckStore() = default;

  virtual std::vector<AckConnection> active_connections() = 0;

  // One poller per connection across all hosts: true when this store now
  // holds the connection, until release_connection.
  virtual bool try_claim_connection(const std::string& connection_id) = 0;
  virtual void release_connection(const std::string& connection_id) = 0;

  // The export of this connection each name refers to (in input order): by
  // file stem, or for the draft-id form the draft's newest SENT export (else
  // its latest delivered one, else a PENDING one).
  virtual std::vector<std::optional<AckTarget>> find_exports(const std::string& connection_id,
                                                             const std::vector<AckName>& names) = 0;

  // In one transaction: records every file not recorded before, applying the
  // answers that carry content (export ACKED or FAILED with the draft ERROR,
  // audit EXPORT_ACKED / EXPORT_REJECTED). For a file handled before, the
  // earlier disposition is returned in `dispositions`. A record the
  // database refuses (text it cannot store) does not roll back the others:
  // it is recorded as INVALID with disposition error, its reason in
  // `refused` (empty for every other record). Results are in input order.
  struct BatchResult {
    std::vector<RecordResult> results;
    std::vector<AckDisposition> dispositions;
    std::vector<std::string> refused;
  };
  virtual BatchResult record(const std::string& connection_id,
                             const std::vector<AckFileRecord>& files) = 0;

  // The outcome of one poll of the connection, for operators. The time of
  // the last poll is kept to the minute while the outcome stays the same.
  virtual void record_poll(const std::string& connection_id, const std::string& error) = 0;
};

}  // namespace exportd
