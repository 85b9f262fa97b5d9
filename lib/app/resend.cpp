// Why this order: every refusal comes before anything is written, and the
// bytes are checked against the recorded sha256 first, so a resend can only
// ever repeat exactly what was delivered.
#include "app/resend.h"

#include "app/export_files.h"
#include "app/sha256.h"
#include "domain/connection_settings.h"
#include "domain/failure.h"
#include "domain/uuid.h"

namespace exportd {

namespace {

std::string quoted(const std::string& text) {
  return "'" + text + "'";
}

}  // namespace

ResendResult resend_export(ExportHistory& history, Archive* archive, DropzoneCache& dropzones,
                           const ResendRequest& request) {
  check_uuid("export id", request.export_id);
  if (request.actor) {
    check_uuid("actor", *request.actor);
  }
  const auto record = history.find(request.export_id);
  const std::string name = "export " + quoted(request.export_id);
  if (!record) {
    throw Failure(FailureKind::bad_config, "there is no " + name);
  }
  if (record->status != ExportStatus::sent && record->status != ExportStatus::acked) {
    throw Failure(FailureKind::refused, name + " is " + std::string(to_string(record->status)) +
                                            "; only a SENT or ACKED export is resent");
  }
  if (!record->archive_key || !record->file_name || !record->sha256) {
    throw Failure(FailureKind::refused, name + " has no archived copy");
  }
  if (archive == nullptr) {
    throw Failure(FailureKind::bad_config,
                  name + " has an archived copy but no archive is configured ([archive] mode)");
  }
  const auto bytes = archive->get(*record->archive_key);
  if (!bytes) {
    throw Failure(FailureKind::refused, name + " has no archived copy: nothing is stored at " +
                                            quoted(*record->archive_key));
  }
  if (sha256_hex(*bytes) != *record->sha256) {
    throw Failure(FailureKind::refused, "the archived copy of " + name + " at " +
                                            quoted(*record->archive_key) +
                                            " does not match its recorded sha256; nothing sent");
  }
  const StoredConnection connection = history.connection(record->connection_id);
  if (!connection.active) {
    throw Failure(FailureKind::refused,
                  "the connection of " + name + " is inactive; nothing is sent through it");
  }
  const ConnectionSettings settings = parse_connection_settings(connection.config);
  Dropzone& dropzone =
      dropzones.get(0, connection.connection_id, settings, connection.sealed_secret);
  const WriteResult written =
      write_export_files(dropzone, settings, *record->file_name, *bytes, *record->sha256);
  if (written.already_present) {
    return {written.path, false};
  }
  if (dropzone.capabilities().directory_sync) {
    dropzone.sync_directory(settings.export_path);
  }
  try {
    history.record_resent(*record, request.actor, written.path);
  } catch (const Failure& e) {
    throw Failure(e.kind(),
                  quoted(written.path) +
                      " was written again but its audit entry was not recorded: " + e.what());
  }
  return {written.path, true};
}

}  // namespace exportd
