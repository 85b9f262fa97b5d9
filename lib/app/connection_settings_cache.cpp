// A connection's text changes rarely (connection set); the cache keeps the
// outcome of the last parse per connection and redoes it when the text differs.
#include "app/connection_settings_cache.h"

#include <nlohmann/json.hpp>

namespace exportd {

ConnectionSettings ConnectionSettingsCache::get(const std::string& connection_id,
                                                const std::string& config) {
  std::lock_guard lock(mutex_);
  Entry& entry = entries_[connection_id];
  if (entry.config != config || (!entry.settings && !entry.failure)) {
    entry = Entry{config, std::nullopt, std::nullopt};
    try {
      // Text that is not JSON fails as "config must be a JSON object".
      entry.settings = parse_connection_settings(nlohmann::json::parse(config, nullptr, false));
    } catch (const Failure& e) {
      entry.failure = e;
    }
  }
  if (entry.failure) {
    throw *entry.failure;
  }
  return *entry.settings;
}

}  // namespace exportd
