// A worker's cached dropzone is replaced when its settings or secret change.
#include "app/dropzone_cache.h"

#include "app/secret_box.h"

namespace exportd {

DropzoneCache::DropzoneCache(Dropzone& filesystem, RemoteFactory remote, SecretOpener open_secret,
                             int workers)
    : filesystem_(filesystem),
      remote_(std::move(remote)),
      open_secret_(std::move(open_secret)),
      slots_(static_cast<size_t>(workers)) {}

Dropzone& DropzoneCache::get(int worker, const std::string& connection_id,
                             const ConnectionSettings& settings, const std::string& sealed_secret) {
  if (settings.mode == DropzoneMode::filesystem) {
    return filesystem_;
  }
  Entry& entry = slots_.at(static_cast<size_t>(worker))[connection_id];
  if (!entry.dropzone || !(entry.settings == settings) || entry.sealed_secret != sealed_secret) {
    entry.dropzone.reset();  // the old session closes before a new one opens
    ConnectionSettings complete = settings;
    if (!sealed_secret.empty()) {
      apply_secret_payload(complete, open_secret_(sealed_secret));
    }
    entry.dropzone = remote_(complete);
    entry.settings = settings;
    entry.sealed_secret = sealed_secret;
  }
  return *entry.dropzone;
}

}  // namespace exportd
