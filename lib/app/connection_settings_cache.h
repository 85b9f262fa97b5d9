// Each connection's settings, parsed and validated once per change of its
// stored text rather than once per export or per poll.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "domain/connection_settings.h"
#include "domain/failure.h"

namespace exportd {

class ConnectionSettingsCache {
 public:
  // The settings `config` (erp_connections.config as stored, JSON text)
  // stands for. Throws the Failure(permanent) of parse_connection_settings,
  // again for the same text without parsing it again. Thread-safe.
  ConnectionSettings get(const std::string& connection_id, const std::string& config);

 private:
  struct Entry {
    std::string config;
    std::optional<ConnectionSettings> settings;  // else `failure`
    std::optional<Failure> failure;
  };

  std::mutex mutex_;
  std::map<std::string, Entry> entries_;  // by connection id
};

}  // namespace exportd
