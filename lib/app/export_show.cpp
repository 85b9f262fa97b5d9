// The `show` command's lookup and its two renderings of one ExportStory.
#include "app/export_show.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "domain/failure.h"
#include "domain/uuid.h"

namespace exportd {

namespace {

// The audit actions that record a failure of the export.
constexpr std::array<std::string_view, 3> kFailureActions = {"DRAFT_PUSH_FAILED", "EXPORT_REJECTED",
                                                             "EXPORT_ACK_TIMEOUT"};

bool is_failure(const AuditRecord& entry) {
  return std::find(kFailureActions.begin(), kFailureActions.end(), entry.action) !=
         kFailureActions.end();
}

template <typename T>
nlohmann::ordered_json or_null(const std::optional<T>& value) {
  return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
}

std::string or_dash(const std::optional<std::string>& value) {
  return value ? *value : "-";
}

// One labelled line of the text form, the values aligned.
void line(std::string& text, std::string_view label, const std::string& value) {
  text.append("  ").append(label).append(std::string(16 - label.size(), ' '));
  text.append(value).append("\n");
}

}  // namespace

ExportStory show_export(ExportHistory& history, const std::string& export_id) {
  check_uuid("export id", export_id);
  auto story = history.story(export_id);
  if (!story) {
    throw Failure(FailureKind::bad_config, "there is no export '" + export_id + "'");
  }
  return std::move(*story);
}

nlohmann::ordered_json export_story_json(const ExportStory& story) {
  const ExportRecord& r = story.record;
  nlohmann::ordered_json json;
  json["export_id"] = r.export_id;
  json["org_id"] = r.org_id;
  json["org"] = r.org_slug;
  json["connection_id"] = r.connection_id;
  json["draft_id"] = r.draft_id;
  json["status"] = std::string(to_string(r.status));
  json["attempts"] = r.attempts;
  json["file_name"] = or_null(r.file_name);
  json["dropzone_path"] = or_null(r.dropzone_path);
  json["sha256"] = or_null(r.sha256);
  json["byte_size"] = or_null(r.byte_size);
  json["archive_key"] = or_null(r.archive_key);
  json["erp_order_id"] = or_null(r.erp_order_id);
  json["created_at"] = r.created_at;
  json["first_attempt_at"] = or_null(r.first_attempt_at);
  json["sent_at"] = or_null(r.sent_at);
  json["acked_at"] = or_null(r.acked_at);
  json["error_json"] = r.error_json;
  json["failures"] = nlohmann::ordered_json::array();
  for (const auto& entry : story.audit) {
    if (is_failure(entry)) {
      json["failures"].push_back(
          {{"at", entry.at}, {"action", entry.action}, {"details", entry.details}});
    }
  }
  json["ack_files"] = nlohmann::ordered_json::array();
  for (const auto& file : story.ack_files) {
    json["ack_files"].push_back({{"handled_at", file.handled_at},
                                 {"file_name", file.file_name},
                                 {"verdict", file.verdict},
                                 {"reason", or_null(file.reason)},
                                 {"disposition", file.disposition},
                                 {"byte_size", file.byte_size},
                                 {"sha256", file.sha256}});
  }
  json["audit"] = nlohmann::ordered_json::array();
  for (const auto& entry : story.audit) {
    json["audit"].push_back({{"at", entry.at},
                             {"action", entry.action},
                             {"entity_type", entry.entity_type},
                             {"entity_id", entry.entity_id},
                             {"actor", or_null(entry.actor)},
                             {"details", entry.details}});
  }
  return json;
}

std::string export_story_text(const ExportStory& story) {
  const ExportRecord& r = story.record;
  std::string text = "export " + r.export_id + "\n";
  line(text, "org", r.org_slug + " (" + r.org_id + ")");
  line(text, "connection", r.connection_id);
  line(text, "draft", r.draft_id);
  line(text, "status", std::string(to_string(r.status)));
  line(text, "attempts", std::to_string(r.attempts));
  line(text, "file", or_dash(r.file_name));
  line(text, "path", or_dash(r.dropzone_path));
  line(text, "sha256", or_dash(r.sha256));
  line(text, "size", r.byte_size ? std::to_string(*r.byte_size).append(" bytes") : "-");
  line(text, "archive key", or_dash(r.archive_key));
  line(text, "erp order id", or_dash(r.erp_order_id));
  line(text, "created", r.created_at);
  line(text, "first attempt", or_dash(r.first_attempt_at));
  line(text, "sent", or_dash(r.sent_at));
  line(text, "acked", or_dash(r.acked_at));
  line(text, "last error", r.error_json.is_null() ? "-" : r.error_json.dump());
  const auto section = [&](std::string_view title, const std::vector<std::string>& lines) {
    text.append(title).append(lines.empty() ? ": none\n" : ":\n");
    for (const auto& entry : lines) {
      text.append("  ").append(entry).append("\n");
    }
  };
  std::vector<std::string> failures, ack_files, audit;
  for (const auto& entry : story.audit) {
    const std::string details =
        entry.details.is_null() ? std::string() : std::string(" ").append(entry.details.dump());
    if (is_failure(entry)) {
      failures.push_back(entry.at + "  " + entry.action + details);
    }
    std::string row = entry.at;
    row.append("  ").append(entry.action).append(" on ").append(entry.entity_type);
    row.append(" ").append(entry.entity_id);
    if (entry.actor) {
      row.append(" by ").append(*entry.actor);
    }
    audit.push_back(row.append(details));
  }
  for (const auto& file : story.ack_files) {
    std::string row = file.handled_at;
    row.append("  ").append(file.file_name).append("  ").append(file.verdict);
    row.append(", ").append(file.disposition);
    if (file.reason) {
      row.append(" (").append(*file.reason).append(")");
    }
    ack_files.push_back(row);
  }
  section("failures", failures);
  section("ack files", ack_files);
  section("audit", audit);
  return text;
}

}  // namespace exportd
