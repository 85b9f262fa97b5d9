// One SSH connection with its SFTP channel, as the SFTP dropzone uses it:
// our own TCP socket opened with a connect timeout, the host key verified,
// the user authenticated, every step under the operation timeout. Never
// reads ~/.ssh/config or the system ssh configuration.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "adapters/sftp/libssh_handles.h"
#include "adapters/temp_files.h"
#include "domain/connection_settings.h"

namespace exportd {

class SocketDeadlines;

struct SftpOptions {
  // The daemon's known_hosts, used when the settings pin no host key.
  std::string known_hosts_path;
  std::chrono::seconds operation_timeout{30};
};

class SftpSession {
 public:
  // Connects, verifies the host key and authenticates. `settings` must be
  // sftp mode, with the password or key passphrase filled in where needed.
  static std::unique_ptr<SftpSession> open(const ConnectionSettings& settings,
                                           const SftpOptions& options, SocketDeadlines& deadlines);
  ~SftpSession();
  SftpSession(const SftpSession&) = delete;
  SftpSession& operator=(const SftpSession&) = delete;

  // Says goodbye to the server under the operation timeout (at once when
  // the connection is already broken) and closes the connection.
  void close() noexcept;

  // False once the server closed the connection or the channel, or a
  // deadline shut the socket down.
  bool connected() const;

  ssh_session ssh() const { return ssh_.get(); }
  sftp_session sftp() const { return sftp_.get(); }
  // The duplicate of the socket that deadlines shut down (see SocketDeadlines).
  int watch_fd() const { return watch_fd_; }
  SocketDeadlines& deadlines() const { return deadlines_; }
  std::chrono::seconds operation_timeout() const { return operation_timeout_; }
  // "'host:port'", for messages.
  const std::string& endpoint() const { return endpoint_; }
  // The server offers fsync@openssh.com.
  bool fsync_supported() const { return fsync_supported_; }
  // The directories whose stale temp files this session removed.
  SweptDirectories& swept() { return swept_; }

 private:
  SftpSession(int socket, std::string endpoint, SocketDeadlines& deadlines,
              std::chrono::seconds operation_timeout);
  void start(const ConnectionSettings& settings, const SftpOptions& options);
  void authenticate(const ConnectionSettings& settings);

  int fd_;        // the ssh socket, until libssh is done with it
  int watch_fd_;  // never reused while a deadline watches it: closed last
  std::string endpoint_;
  SocketDeadlines& deadlines_;
  std::chrono::seconds operation_timeout_;
  SshSessionHandle ssh_;
  SftpSessionHandle sftp_;  // freed before ssh_, which it belongs to
  bool fsync_supported_ = false;
  SweptDirectories swept_;
};

}  // namespace exportd
