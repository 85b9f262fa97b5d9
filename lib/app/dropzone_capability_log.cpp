// The durability a dropzone lacks, logged once per connection: a missing
// directory flush is how SFTP is (info), a missing file flush is a server
// without fsync@openssh.com, which an operator can change (warn).
#include "app/dropzone_capability_log.h"

#include "logging/logging.h"

namespace exportd {

void DropzoneCapabilityLog::note(const std::string& connection_id,
                                 const DropzoneCapabilities& capabilities) {
  {
    std::lock_guard lock(mutex_);
    const auto [it, first] = noted_.try_emplace(connection_id, capabilities);
    if (!first && it->second == capabilities) {
      return;
    }
    it->second = capabilities;
  }
  if (!capabilities.directory_sync) {
    log_event(Level::info,
              "dropzone cannot sync directories; a power cut on the server may lose a renamed file",
              {{"connection_id", connection_id}});
  }
  if (!capabilities.file_sync) {
    log_event(Level::warn,
              "dropzone cannot sync files; a power cut on the server may leave a delivered file "
              "empty or cut short",
              {{"connection_id", connection_id}});
  }
}

}  // namespace exportd
