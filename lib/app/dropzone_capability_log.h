// Says once per connection what its dropzone cannot make durable, so an
// operator reads it in the log instead of a driver skipping a flush in
// silence. Thread-safe: the export workers share one.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "ports/dropzone.h"

namespace exportd {

class DropzoneCapabilityLog {
 public:
  // Logs what `capabilities` lack the first time `connection_id` shows
  // them, and again only when they change (its server was replaced).
  void note(const std::string& connection_id, const DropzoneCapabilities& capabilities);

 private:
  std::mutex mutex_;
  std::map<std::string, DropzoneCapabilities> noted_;
};

}  // namespace exportd
