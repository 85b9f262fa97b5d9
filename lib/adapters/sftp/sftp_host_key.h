// Whether an SSH server is the one the connection means: its host key
// against the pinned SHA-256 fingerprints, or else against the daemon's own
// known_hosts. A key that cannot be verified is refused, never accepted.
#pragma once

#include <libssh/libssh.h>

#include <string>

#include "domain/connection_settings.h"

namespace exportd {

// Throws a permanent Failure naming both keys when the server's key is not
// the expected one. `endpoint` is "'host:port'", for messages.
void verify_host_key(ssh_session ssh, const ConnectionSettings& settings,
                     const std::string& known_hosts_path, const std::string& endpoint);

}  // namespace exportd
