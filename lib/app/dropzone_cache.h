// Which dropzone serves a connection for a worker: the one shared filesystem
// dropzone, or the worker's own SFTP session for that connection, kept
// across exports and replaced when the connection's settings or secret
// change. Each worker only touches its own slot, so no locking.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "app/secret_box.h"
#include "domain/connection_settings.h"
#include "ports/dropzone.h"

namespace exportd {

class DropzoneCache {
 public:
  // Builds a remote dropzone from complete settings (secret applied).
  using RemoteFactory = std::function<std::unique_ptr<Dropzone>(const ConnectionSettings&)>;
  DropzoneCache(Dropzone& filesystem, RemoteFactory remote, SecretOpener open_secret, int workers);

  Dropzone& get(int worker, const std::string& connection_id, const ConnectionSettings& settings,
                const std::string& sealed_secret);

 private:
  struct Entry {
    ConnectionSettings settings;
    std::string sealed_secret;
    std::unique_ptr<Dropzone> dropzone;
  };

  Dropzone& filesystem_;
  RemoteFactory remote_;
  SecretOpener open_secret_;
  std::vector<std::map<std::string, Entry>> slots_;
};

}  // namespace exportd
