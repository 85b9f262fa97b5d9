// Why each step: the socket is ours (SSH_OPTIONS_FD), opened with a connect
// timeout, so a deadline can cover the whole session from the first byte; a
// duplicate of it is what the deadlines shut down, so a descriptor number
// they may still touch is never reused for another file.
#include "adapters/sftp/sftp_session.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "adapters/dropzone_common.h"
#include "adapters/sftp/sftp_host_key.h"
#include "adapters/socket_deadlines.h"
#include "domain/failure.h"

namespace exportd {

namespace {

using AddressList = std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)>;

// Connects to `fd`'s address within `timeout`; 0 or the errno.
int connect_within(int fd, const addrinfo& address, std::chrono::seconds timeout) {
  if (::connect(fd, address.ai_addr, address.ai_addrlen) == 0) {
    return 0;
  }
  int error = errno;
  if (error == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    socklen_t length = sizeof error;
    if (::poll(&p, 1, static_cast<int>(timeout.count() * 1000)) == 1) {
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
    } else {
      error = ETIMEDOUT;
    }
  }
  return error;
}

int open_tcp(const std::string& host, int port, std::chrono::seconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
      rc != 0) {
    throw Failure(FailureKind::transient,
                  "cannot resolve " + quote(host) + ": " + ::gai_strerror(rc));
  }
  const AddressList addresses(found, &::freeaddrinfo);
  std::string last_error = "no address";
  for (const addrinfo* a = addresses.get(); a != nullptr; a = a->ai_next) {
    const int fd =
        ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    const int error = fd < 0 ? errno : connect_within(fd, *a, timeout);
    if (error == 0) {
      // libssh runs the socket in blocking mode; our deadlines bound each call.
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      return fd;
    }
    last_error = std::strerror(error);
    if (fd >= 0) {
      ::close(fd);
    }
  }
  throw Failure(
      FailureKind::transient,
      "cannot connect to " + quote(host + ":" + std::to_string(port)) + ": " + last_error);
}

bool same_socket(int fd, int other) {
  struct stat a {
  }, b{};
  return ::fstat(fd, &a) == 0 && ::fstat(other, &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

}  // namespace

SftpSession::SftpSession(int socket, std::string endpoint, SocketDeadlines& deadlines,
                         std::chrono::seconds operation_timeout)
    : fd_(socket),
      watch_fd_(::fcntl(socket, F_DUPFD_CLOEXEC, 0)),
      endpoint_(std::move(endpoint)),
      deadlines_(deadlines),
      operation_timeout_(operation_timeout) {
  if (watch_fd_ < 0) {
    const int error = errno;
    ::close(fd_);
    throw Failure(FailureKind::transient,
                  std::string("cannot duplicate a socket: ") + std::strerror(error));
  }
}

SftpSession::~SftpSession() {
  close();
  ::close(watch_fd_);
}

std::unique_ptr<SftpSession> SftpSession::open(const ConnectionSettings& settings,
                                               const SftpOptions& options,
                                               SocketDeadlines& deadlines) {
  if (settings.mode != DropzoneMode::sftp) {
    throw Failure(FailureKind::permanent, "the connection is not in sftp mode");
  }
  const int socket =
      open_tcp(settings.host, settings.port, std::chrono::seconds(settings.connect_timeout_s));
  std::unique_ptr<SftpSession> session(
      new SftpSession(socket, quote(settings.host + ":" + std::to_string(settings.port)), deadlines,
                      options.operation_timeout));
  session->start(settings, options);
  return session;
}

void SftpSession::start(const ConnectionSettings& settings, const SftpOptions& options) {
  const auto guard = deadlines_.arm(watch_fd_, operation_timeout_);
  const auto fail = [&](FailureKind kind, const std::string& what) {
    if (guard.expired()) {
      throw Failure(FailureKind::transient, what + ": no answer from " + endpoint_ + " within " +
                                                std::to_string(operation_timeout_.count()) + " s");
    }
    throw Failure(kind, what + ": " + ssh_get_error(ssh_.get()));
  };

  ssh_.reset(ssh_new());
  if (!ssh_) {
    throw Failure(FailureKind::transient, "cannot create an ssh session");
  }
  ssh_session ssh = ssh_.get();
  int fd = fd_;
  const int verbosity = SSH_LOG_NOLOG;
  const int process_config = 0;
  const long timeout_s = operation_timeout_.count();
  const auto port = static_cast<unsigned int>(settings.port);
  ssh_options_set(ssh, SSH_OPTIONS_FD, &fd);
  ssh_options_set(ssh, SSH_OPTIONS_HOST, settings.host.c_str());
  ssh_options_set(ssh, SSH_OPTIONS_PORT, &port);
  ssh_options_set(ssh, SSH_OPTIONS_USER, settings.username.c_str());
  ssh_options_set(ssh, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
  ssh_options_set(ssh, SSH_OPTIONS_PROCESS_CONFIG, &process_config);
  ssh_options_set(ssh, SSH_OPTIONS_TIMEOUT, &timeout_s);
  // Only the daemon's own known_hosts: never ~/.ssh or /etc/ssh.
  ssh_options_set(ssh, SSH_OPTIONS_KNOWNHOSTS, options.known_hosts_path.c_str());
  ssh_options_set(ssh, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, options.known_hosts_path.c_str());

  if (ssh_connect(ssh) != SSH_OK) {
    fail(FailureKind::transient, "cannot open an ssh session with " + endpoint_);
  }
  verify_host_key(ssh, settings, options.known_hosts_path, endpoint_);
  authenticate(settings);
  sftp_.reset(sftp_new(ssh));
  if (!sftp_ || sftp_init(sftp_.get()) != SSH_OK) {
    fail(FailureKind::transient, "cannot start sftp on " + endpoint_);
  }
  fsync_supported_ = sftp_extension_supported(sftp_.get(), "fsync@openssh.com", "1") != 0;
}

void SftpSession::authenticate(const ConnectionSettings& settings) {
  const std::string who = quote(settings.username) + " on " + endpoint_;
  int result = SSH_AUTH_ERROR;
  if (settings.auth == "password") {
    if (settings.password.empty()) {
      throw Failure(FailureKind::permanent,
                    "no password is stored for " + who +
                        " (store one with 'connection set --password-stdin')");
    }
    result = ssh_userauth_password(ssh_.get(), nullptr, settings.password.c_str());
  } else {
    ssh_key imported = nullptr;
    const char* passphrase =
        settings.key_passphrase.empty() ? nullptr : settings.key_passphrase.c_str();
    if (ssh_pki_import_privkey_file(settings.private_key_path.c_str(), passphrase, nullptr, nullptr,
                                    &imported) != SSH_OK) {
      throw Failure(FailureKind::permanent,
                    "cannot load private key " + quote(settings.private_key_path) +
                        " (missing, unreadable, or the passphrase is wrong)");
    }
    const SshKeyHandle key(imported);
    result = ssh_userauth_publickey(ssh_.get(), nullptr, key.get());
  }
  switch (result) {
    case SSH_AUTH_SUCCESS:
      return;
    case SSH_AUTH_DENIED:
    case SSH_AUTH_PARTIAL:
      throw Failure(FailureKind::permanent,
                    "authentication as " + who + " refused (" + settings.auth + ")");
    default:
      throw Failure(FailureKind::transient,
                    "cannot authenticate as " + who + ": " + ssh_get_error(ssh_.get()));
  }
}

bool SftpSession::connected() const {
  return ssh_ && ssh_is_connected(ssh_.get()) != 0 &&
         (ssh_get_status(ssh_.get()) & (SSH_CLOSED | SSH_CLOSED_ERROR)) == 0 &&
         (!sftp_ ||
          (ssh_channel_is_open(sftp_->channel) != 0 && ssh_channel_is_eof(sftp_->channel) == 0));
}

void SftpSession::close() noexcept {
  if (ssh_) {
    // Teardown talks to the server too; it gets the same deadline.
    const auto guard = deadlines_.arm(watch_fd_, operation_timeout_);
    if (!connected()) {
      ::shutdown(watch_fd_, SHUT_RDWR);
    }
    sftp_.reset();
    ssh_.reset();
  }
  // libssh leaves a socket given with SSH_OPTIONS_FD open, except on paths
  // where it closed it itself; close it only while it is still ours.
  if (fd_ >= 0 && same_socket(fd_, watch_fd_)) {
    ::close(fd_);
  }
  fd_ = -1;
}

}  // namespace exportd
