// The `connection set` and `connection test` use cases: validate and store an
// org's dropzone settings with its secret sealed, and probe a dropzone the
// way deliveries and the ack poller will use it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "app/dropzone_cache.h"
#include "ports/connection_store.h"

namespace exportd {

class SecretBox;

struct ConnectionSetRequest {
  std::string org_slug;
  std::string config_json;
  std::string source;                 // the file name, for error messages
  std::optional<std::string> secret;  // the password, or the key's passphrase
};

// Validates and stores the settings; returns a one-line summary without the
// secret. Throws Failure(bad_config) with one sentence when the settings are
// unusable. `secret_box` is only asked for when there is a secret to seal.
std::string set_connection(ConnectionStore& store, const ConnectionSetRequest& request,
                           const std::vector<std::string>& filesystem_roots,
                           const std::function<const SecretBox&()>& secret_box);

struct ConnectionTestReport {
  bool success = false;
  std::vector<std::string> steps;  // what was done, one line each
  std::string error;               // on failure
};

// Writes and removes a probe file in export_path, lists ack_path, and
// records the outcome on the connection.
ConnectionTestReport test_connection(ConnectionStore& store, const std::string& org_slug,
                                     DropzoneCache& dropzones);

}  // namespace exportd
