// A throwaway OpenSSH server for tests and benchmarks: Debian's sshd with
// internal-sftp on a free loopback port, generated host and client keys, a
// dedicated system user with a random password. Needs root (sshd's
// privilege separation and password checks do).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "domain/connection_settings.h"

namespace exportd::testing {

class Process;

class SshdServer {
 public:
  SshdServer();
  ~SshdServer();
  SshdServer(const SshdServer&) = delete;
  SshdServer& operator=(const SshdServer&) = delete;

  void start();
  void stop();
  // SIGSTOP / SIGCONT the listener and every session process: connections
  // stay up but nothing answers.
  void freeze();
  void thaw();
  // Kills the per-connection session processes; the listener keeps running.
  void kill_sessions();
  // The descriptors the session processes hold open: every file or
  // directory handle a client left open on the server holds one.
  size_t session_descriptors() const;

  int port() const { return port_; }
  const std::string& user() const { return user_; }
  const std::string& password() const { return password_; }
  // "SHA256:..." as ssh-keygen -lf prints it.
  const std::string& host_key_sha256() const { return host_key_sha256_; }
  std::string host_public_key_line() const;  // "ssh-ed25519 AAAA..."
  const std::string& ed25519_key() const { return ed25519_key_; }
  const std::string& rsa_key() const { return rsa_key_; }
  // An ed25519 key protected by key_passphrase().
  const std::string& protected_key() const { return protected_key_; }
  const std::string& key_passphrase() const { return key_passphrase_; }
  // One server per test process, started on first use.
  static SshdServer& shared();

  // A directory the SFTP user owns; remote paths below it are local paths.
  const std::string& data_dir() const { return data_dir_; }
  // A new directory below data_dir(), owned by the SFTP user.
  std::string user_dir(const std::string& name);
  // Settings for this server: publickey (ed25519), host key pinned.
  ConnectionSettings settings(const std::string& export_path = "/") const;
  // The same as stored in erp_connections.config, exports and acks both in `dir`.
  nlohmann::json connection_config(const std::string& dir) const;

 private:
  std::string dir_;
  std::string data_dir_;
  std::string config_path_;
  std::string user_ = "exportd-sftp";
  std::string password_;
  std::string host_key_sha256_;
  std::string ed25519_key_;
  std::string rsa_key_;
  std::string protected_key_;
  std::string key_passphrase_ = "correct horse battery";
  int port_ = 0;
  int user_dirs_ = 0;
  std::unique_ptr<Process> sshd_;
};

}  // namespace exportd::testing
