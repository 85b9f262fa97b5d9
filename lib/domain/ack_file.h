// The ERP's answer files (docs/erp-integration.md, "Ack files"): which names
// are answers, what a valid answer holds, and what an answer does to an export
// in a given state. Pure: the poller brings the bytes and the export's state.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "domain/status.h"

namespace exportd {

enum class AckKind { ack, error };

struct AckName {
  AckKind kind;
  std::string reference;     // the export's file stem, or a draft id
  bool by_draft_id = false;  // the older `{draft_order_id}` form
};

// The answer a file name stands for; nullopt for anything else in ack_path
// (other names, dot files, temp files), which is left alone.
std::optional<AckName> parse_ack_name(std::string_view file_name);

// Why a name parse_ack_name accepts cannot be recorded, "" when it can: the
// database keeps names as text, which must be valid UTF-8.
std::string ack_name_problem(std::string_view file_name);

struct AckContent {
  AckKind kind;
  std::string erp_order_id;  // ACKED
  nlohmann::json error;      // FAILED: the ERP's whole object, for error_json
};

// Deeper nesting than this is refused before parsing: no legitimate answer
// comes close, and it keeps hostile files from exhausting the stack.
inline constexpr int kMaxAckNesting = 32;

// Validates the bytes of an answer named as `named`. On failure returns the
// reason (one sentence) in `problem` and no content.
struct AckParse {
  std::optional<AckContent> content;
  std::string problem;
};
AckParse parse_ack_content(AckKind named, std::string_view bytes);

// What an answer does, given the referenced export's status.
enum class AckVerdict {
  apply,          // SENT: ACKED, or FAILED with draft ERROR
  repeat,         // already in the state this answer leads to: nothing changes
  contradiction,  // final in the other state: refused
  wait,           // still PENDING: look again at the next poll
  no_export,      // nothing to apply it to: refused
};

// `export_status` is nullopt when no export matches. An export that its ack
// deadline made FAILED was never answered, so any answer contradicts it.
AckVerdict decide_ack(AckKind kind, std::optional<ExportStatus> export_status,
                      bool failed_by_ack_timeout = false);

const char* to_string(AckVerdict verdict);

// The verdict recorded with a handled file (exportd_ack_files.verdict).
enum class AckFileVerdict {
  acked,          // an ack applied: the export is ACKED
  rejected,       // an error file applied: the export is FAILED
  repeat,         // the export was already where the answer leads
  contradiction,  // the export is final in the other state
  no_export,      // no export of the connection matches
  invalid,        // not a valid answer, or one the database cannot store
  too_large,      // over [ack] max_file_bytes: not read
};

// As stored and counted: "ACKED", "REJECTED", "REPEAT", "CONTRADICTION",
// "NO_EXPORT", "INVALID", "TOO_LARGE".
const char* to_string(AckFileVerdict verdict);

}  // namespace exportd
