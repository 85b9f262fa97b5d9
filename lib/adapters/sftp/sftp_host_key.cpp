// Host key verification for SFTP sessions. The refusal names the key the
// server presented and the ones expected, so an operator can tell a
// reinstalled server from a wrong address.
#include "adapters/sftp/sftp_host_key.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "adapters/dropzone_common.h"
#include "adapters/sftp/libssh_handles.h"
#include "domain/failure.h"

namespace exportd {

namespace {

// "SHA256:..." as ssh-keygen -lf prints it.
std::string fingerprint(ssh_key key) {
  unsigned char* raw = nullptr;
  size_t length = 0;
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &raw, &length) != SSH_OK) {
    throw Failure(FailureKind::transient, "cannot hash the server's host key");
  }
  const SshHashHandle hash(raw);
  const SshCharsHandle text(
      ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash.get(), length));
  return text ? text.get() : "";
}

// The fingerprints known_hosts lists for host:port, for the refusal message
// (libssh only hands out the entry that matches). Hashed host names cannot be
// matched without the salt's HMAC and are left out.
std::string known_fingerprints(const std::string& path, const std::string& host, int port) {
  const std::string name = port == 22 ? host : "[" + host + "]:" + std::to_string(port);
  std::ifstream file(path);
  std::string line, found;
  while (std::getline(file, line)) {
    std::istringstream fields(line);
    std::string hosts, type, blob;
    if (!(fields >> hosts >> type >> blob) || hosts.starts_with("#")) {
      continue;
    }
    std::istringstream patterns(hosts);
    std::string pattern;
    bool matches = false;
    while (std::getline(patterns, pattern, ',')) {
      matches = matches || pattern == name;
    }
    ssh_key imported = nullptr;
    if (matches && ssh_pki_import_pubkey_base64(blob.c_str(), ssh_key_type_from_name(type.c_str()),
                                                &imported) == SSH_OK) {
      const SshKeyHandle key(imported);
      found += (found.empty() ? "" : " or ") + fingerprint(key.get());
    }
  }
  return found.empty() ? "another key" : found;
}

}  // namespace

void verify_host_key(ssh_session ssh, const ConnectionSettings& settings,
                     const std::string& known_hosts_path, const std::string& endpoint) {
  ssh_key presented = nullptr;
  if (ssh_get_server_publickey(ssh, &presented) != SSH_OK) {
    throw Failure(FailureKind::transient, "cannot read the host key of " + endpoint);
  }
  const std::string seen = fingerprint(SshKeyHandle(presented).get());

  if (const auto& pins = settings.host_key_sha256; !pins.empty()) {
    if (std::find(pins.begin(), pins.end(), seen) == pins.end()) {
      std::string expected;
      for (const auto& pin : pins) {
        expected += (expected.empty() ? "" : ", ") + pin;
      }
      throw Failure(FailureKind::permanent, "host key of " + endpoint +
                                                " refused: the server presented " + seen +
                                                ", host_key_sha256 pins " + expected);
    }
    return;
  }
  const std::string known_hosts = quote(known_hosts_path);
  switch (ssh_session_is_known_server(ssh)) {
    case SSH_KNOWN_HOSTS_OK:
      return;
    case SSH_KNOWN_HOSTS_CHANGED:
    case SSH_KNOWN_HOSTS_OTHER: {
      const std::string expected =
          known_fingerprints(known_hosts_path, settings.host, settings.port);
      throw Failure(FailureKind::permanent, "host key of " + endpoint +
                                                " refused: the server presented " + seen + ", " +
                                                known_hosts + " expects " + expected);
    }
    case SSH_KNOWN_HOSTS_UNKNOWN:
    case SSH_KNOWN_HOSTS_NOT_FOUND:
      throw Failure(FailureKind::permanent,
                    "host key of " + endpoint + " refused: the server presented " + seen +
                        ", which " + known_hosts +
                        " does not list (expected: a known key; add it or pin host_key_sha256)");
    default:
      throw Failure(FailureKind::permanent, "cannot check the host key of " + endpoint +
                                                " against " + known_hosts + ": " +
                                                ssh_get_error(ssh));
  }
}

}  // namespace exportd
