// SFTP requests under a deadline, and what their failures mean: libssh's
// results turned into classified failures (transient, unavailable,
// permanent), or SessionLost when the session itself can no longer be used.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>

#include "adapters/sftp/libssh_handles.h"
#include "adapters/sftp/sftp_session.h"
#include "adapters/socket_deadlines.h"

namespace exportd {

// The session cannot be used any more: dropped, and maybe tried again.
class SessionLost : public std::runtime_error {
 public:
  SessionLost(const std::string& message, bool timed_out)
      : std::runtime_error(message), timed_out_(timed_out) {}
  bool timed_out() const { return timed_out_; }

 private:
  bool timed_out_;
};

// One SFTP call (or a few) on `session`, its deadline armed for the
// object's lifetime.
class SftpCall {
 public:
  explicit SftpCall(SftpSession& session);

  // The handle for the next SFTP request. libssh keeps the last status
  // until another status reply arrives, so it is cleared here: a request
  // that fails without any reply (the session broke) must not be judged by
  // an older request's status.
  sftp_session sftp() const;
  SftpSession& session() const { return session_; }

  // The SFTP status of the last failed request; 0 when the session itself broke.
  int status() const;
  // True when the last failed request found no such file or directory.
  bool missing() const;

  // Throws for a failed `operation` ("cannot create 'x'"): SessionLost when
  // the deadline passed or the connection broke, else a Failure by status.
  [[noreturn]] void fail(const std::string& operation) const;
  // `code`: the status of the request that failed, saved before others ran.
  [[noreturn]] void fail(const std::string& operation, int code) const;

  // Attributes of `path` without following a symlink; empty when missing.
  SftpAttributesHandle lstat(const std::string& path) const;
  bool exists(const std::string& path) const;
  // Removes `path`; one that is already gone is fine.
  void remove(const std::string& path) const;
  // Creates `directory` and its missing parents; existing ones are fine.
  void make_directories(const std::string& directory) const;
  // Calls `visit` with each entry of `directory`. The directory handle is
  // closed however `visit` leaves.
  void list(const std::string& directory,
            const std::function<void(const sftp_attributes_struct&)>& visit) const;

 private:
  SftpSession& session_;
  SocketDeadlines::Guard guard_;
};

}  // namespace exportd
