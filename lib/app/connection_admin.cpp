// `connection set` validates before it stores; `connection test` records
// its outcome whatever it was.
#include "app/connection_admin.h"

#include <random>

#include "app/secret_box.h"
#include "domain/connection_settings.h"
#include "domain/dropzone_path.h"
#include "domain/failure.h"
#include "domain/file_name.h"

namespace exportd {

namespace {

void check_within_roots(const std::string& key, const std::string& path,
                        const std::vector<std::string>& roots) {
  const std::string normalized = normalize_absolute_path(path);
  for (const auto& root : roots) {
    if (path_is_within(normalized, normalize_absolute_path(root))) {
      return;
    }
  }
  throw Failure(FailureKind::bad_config,
                "'" + key + "' '" + path + "' is outside the daemon's filesystem_roots");
}

std::string random_token() {
  std::random_device random;
  return std::to_string(random()) + std::to_string(random());
}

bool has_stored_secret(ConnectionStore& store, const std::string& org_slug) {
  try {
    return !store.load(org_slug).sealed_secret.empty();
  } catch (const Failure& e) {
    if (e.kind() == FailureKind::bad_config) {
      return false;  // no connection yet
    }
    throw;
  }
}

}  // namespace

std::string set_connection(ConnectionStore& store, const ConnectionSetRequest& request,
                           const std::vector<std::string>& filesystem_roots,
                           const std::function<const SecretBox&()>& secret_box) {
  const auto config = nlohmann::json::parse(request.config_json, nullptr, false);
  if (config.is_discarded()) {
    throw Failure(FailureKind::bad_config, "'" + request.source + "' is not valid JSON");
  }
  ConnectionSettings settings;
  try {
    settings = parse_connection_settings(config);
  } catch (const Failure& e) {
    throw Failure(FailureKind::bad_config, "'" + request.source + "': " + e.what());
  }
  if (settings.mode == DropzoneMode::filesystem) {
    check_within_roots("export_path", settings.export_path, filesystem_roots);
    check_within_roots("ack_path", settings.ack_path, filesystem_roots);
    if (request.secret) {
      throw Failure(FailureKind::bad_config, "a filesystem connection has no secret to store");
    }
  }
  std::optional<std::string> sealed;
  if (request.secret) {
    if (request.secret->empty()) {
      throw Failure(FailureKind::bad_config, "the secret read from stdin is empty");
    }
    sealed = secret_box().seal(secret_payload(settings, *request.secret));
  }
  if (settings.mode == DropzoneMode::sftp && settings.auth == "password" && !sealed &&
      !has_stored_secret(store, request.org_slug)) {
    throw Failure(FailureKind::bad_config,
                  "auth 'password' needs the password: give it with --password-stdin");
  }
  store.save(request.org_slug, config, sealed);
  std::string summary = "stored the " +
                        std::string(settings.mode == DropzoneMode::sftp ? "sftp" : "filesystem") +
                        " connection of '" + request.org_slug + "'";
  if (sealed) {
    summary += settings.auth == "password" ? " (password encrypted)" : " (passphrase encrypted)";
  }
  return summary;
}

ConnectionTestReport test_connection(ConnectionStore& store, const std::string& org_slug,
                                     DropzoneCache& dropzones) {
  const StoredConnection stored = store.load(org_slug);
  ConnectionTestReport report;
  try {
    if (!stored.active) {
      throw Failure(FailureKind::permanent, "the connection is inactive");
    }
    const ConnectionSettings settings = parse_connection_settings(stored.config);
    Dropzone& dropzone = dropzones.get(0, stored.connection_id, settings, stored.sealed_secret);
    // A dot name ending in .tmp: ignored by the ERP like our temp files.
    const std::string probe = temp_file_name("orderflow-exportd-probe", random_token());
    dropzone.write_file(settings.export_path, probe, "probe\n", {.atomic = false, .sync = true});
    dropzone.remove_file(settings.export_path, probe);
    report.steps.push_back("wrote and removed a probe file in '" + settings.export_path + "'");
    const auto acks = dropzone.list_files(settings.ack_path);
    report.steps.push_back("listed '" + settings.ack_path + "': " + std::to_string(acks.size()) +
                           " file(s)");
    report.success = true;
  } catch (const std::exception& e) {
    report.error = e.what();
  }
  store.record_test(stored.connection_id, report.success);
  return report;
}

}  // namespace exportd
