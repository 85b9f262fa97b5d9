// The `show` command: one export's whole story (its record, every failure
// recorded, the ack files that named it, its audit entries in time order),
// as JSON for scripts (`show --json`) or as text for a person.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "ports/export_history.h"

namespace exportd {

// Throws Failure(bad_config) for a malformed id or an unknown export.
ExportStory show_export(ExportHistory& history, const std::string& export_id);

// Keys and their order are an interface: "export_id", "org_id", "org",
// "connection_id", "draft_id", "status", "attempts", "file_name",
// "dropzone_path", "sha256", "byte_size", "archive_key", "erp_order_id",
// "created_at", "first_attempt_at", "sent_at", "acked_at", "error_json" (the
// last error recorded), "failures" (the audit entries of failures: [{"at",
// "action", "details"}]), "ack_files" ([{"handled_at", "file_name",
// "verdict", "reason", "disposition", "byte_size", "sha256"}]) and "audit"
// ([{"at", "action", "entity_type", "entity_id", "actor", "details"}]);
// absent values are null.
nlohmann::ordered_json export_story_json(const ExportStory& story);

// Several lines, each ending in a line break.
std::string export_story_text(const ExportStory& story);

}  // namespace exportd
