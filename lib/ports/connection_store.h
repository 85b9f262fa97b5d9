// Port: the orgs' ERP connections (erp_connections in Postgres), for the
// `connection set` and `connection test` commands.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace exportd {

struct StoredConnection {
  std::string connection_id;
  nlohmann::json config;
  std::string sealed_secret;  // empty when there is none
  bool active = true;
};

class ConnectionStore {
 public:
  virtual ~ConnectionStore() = default;

  // Creates or replaces the org's DROPZONE_JSON_V1 connection and makes it
  // active. `sealed_secret` unset keeps the stored secret. Throws
  // Failure(bad_config) for an unknown org.
  virtual StoredConnection save(const std::string& org_slug, const nlohmann::json& config,
                                const std::optional<std::string>& sealed_secret) = 0;

  // Throws Failure(bad_config) when the org or its connection does not exist.
  virtual StoredConnection load(const std::string& org_slug) = 0;

  // Records last_test_at = now and last_test_success.
  virtual void record_test(const std::string& connection_id, bool success) = 0;
};

}  // namespace exportd
