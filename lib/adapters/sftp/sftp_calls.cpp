// How an SFTP status becomes a failure kind: a permission the server refuses
// is for an operator to fix (unavailable); a missing path may appear
// (transient); an operation the server lacks never will (permanent); no
// status at all means the session broke.
#include "adapters/sftp/sftp_calls.h"

#include <sstream>

#include "adapters/dropzone_common.h"
#include "domain/failure.h"

namespace exportd {

SftpCall::SftpCall(SftpSession& session)
    : session_(session),
      guard_(session.deadlines().arm(session.watch_fd(), session.operation_timeout())) {}

sftp_session SftpCall::sftp() const {
  session_.sftp()->errnum = SSH_FX_OK;
  return session_.sftp();
}

int SftpCall::status() const {
  if (guard_.expired() || !session_.connected()) {
    return 0;
  }
  return sftp_get_error(session_.sftp());
}

bool SftpCall::missing() const {
  const int code = status();
  return code == SSH_FX_NO_SUCH_FILE || code == SSH_FX_NO_SUCH_PATH;
}

void SftpCall::fail(const std::string& operation) const {
  fail(operation, status());
}

void SftpCall::fail(const std::string& operation, int code) const {
  if (guard_.expired()) {
    throw SessionLost(operation + ": no answer from " + session_.endpoint() + " within " +
                          std::to_string(session_.operation_timeout().count()) + " s",
                      true);
  }
  switch (code) {
    case 0:
    case SSH_FX_NO_CONNECTION:
    case SSH_FX_CONNECTION_LOST:
    case SSH_FX_BAD_MESSAGE:
      throw SessionLost(operation + ": connection to " + session_.endpoint() + " lost (" +
                            ssh_get_error(session_.ssh()) + ")",
                        false);
    case SSH_FX_PERMISSION_DENIED:
    case SSH_FX_WRITE_PROTECT:
      // The server's permissions or mount, which an operator fixes.
      throw Failure(FailureKind::unavailable, operation + ": permission denied");
    case SSH_FX_NO_SUCH_FILE:
    case SSH_FX_NO_SUCH_PATH:
      throw Failure(FailureKind::transient, operation + ": no such file or directory");
    case SSH_FX_OP_UNSUPPORTED:
      throw Failure(FailureKind::permanent, operation + ": not supported by the server");
    default:
      throw Failure(
          FailureKind::transient,
          operation + ": the server reported a failure (SFTP status " + std::to_string(code) + ")");
  }
}

SftpAttributesHandle SftpCall::lstat(const std::string& path) const {
  SftpAttributesHandle attributes(sftp_lstat(sftp(), path.c_str()));
  if (!attributes && !missing()) {
    fail(cannot(DropzoneOp::check, path));
  }
  return attributes;
}

bool SftpCall::exists(const std::string& path) const {
  return lstat(path) != nullptr;
}

void SftpCall::remove(const std::string& path) const {
  if (sftp_unlink(sftp(), path.c_str()) != 0 && status() != SSH_FX_NO_SUCH_FILE) {
    fail(cannot(DropzoneOp::remove, path));
  }
}

void SftpCall::make_directories(const std::string& directory) const {
  std::string walked;
  std::istringstream parts(directory);
  std::string part;
  while (std::getline(parts, part, '/')) {
    if (part.empty()) {
      continue;
    }
    walked += "/" + part;
    if (sftp_mkdir(sftp(), walked.c_str(), 0750) != 0) {
      const int refused = status();
      const auto attributes = lstat(walked);
      if (!attributes || attributes->type != SSH_FILEXFER_TYPE_DIRECTORY) {
        fail(cannot(DropzoneOp::create_directory, walked), refused);
      }
    }
  }
}

void SftpCall::list(const std::string& directory,
                    const std::function<void(const sftp_attributes_struct&)>& visit) const {
  const SftpDirHandle dir(sftp_opendir(sftp(), directory.c_str()));
  if (!dir) {
    fail(cannot(DropzoneOp::list, directory));
  }
  while (const SftpAttributesHandle attributes{sftp_readdir(sftp(), dir.get())}) {
    visit(*attributes);
  }
  if (sftp_dir_eof(dir.get()) == 0) {
    fail(cannot(DropzoneOp::list, directory));
  }
}

}  // namespace exportd
