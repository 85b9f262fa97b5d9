// Why each step: the socket is ours (SSH_OPTIONS_FD), opened with a connect
// timeout, so a deadline can cover the whole session from the first byte;
// every call runs under SocketDeadlines; a failure that leaves the session
// unusable drops it, and a call on a reused session that finds it closed
// (server restart, idle timeout) is tried once more on a fresh one. OpenSSH
// renames with link()+unlink(), so a rename onto an existing name fails:
// after a failed rename the final name is checked before anything is
// concluded.
#include "adapters/sftp/sftp_dropzone.h"

#include <fcntl.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "adapters/sftp/socket_deadlines.h"
#include "adapters/temp_files.h"
#include "domain/dropzone_path.h"
#include "domain/failure.h"
#include "domain/file_name.h"

namespace exportd {

namespace {

constexpr size_t kWriteChunk = size_t{32} * 1024;

std::string quote(const std::string& s) {
  return "'" + s + "'";
}

// The session cannot be used any more: dropped, and maybe tried again.
class SessionLost : public std::runtime_error {
 public:
  SessionLost(const std::string& message, bool timed_out)
      : std::runtime_error(message), timed_out_(timed_out) {}
  bool timed_out() const { return timed_out_; }

 private:
  bool timed_out_;
};

std::string fingerprint(ssh_key key) {
  unsigned char* hash = nullptr;
  size_t length = 0;
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &length) != SSH_OK) {
    throw Failure(FailureKind::transient, "cannot hash the server's host key");
  }
  char* text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, length);
  ssh_clean_pubkey_hash(&hash);
  std::string out = text != nullptr ? text : "";
  ssh_string_free_char(text);
  return out;
}

// "SHA256:abc" and "abc" name the same pinned key.
int open_tcp(const std::string& host, int port, std::chrono::seconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string where = quote(host + ":" + std::to_string(port));
  if (const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
      rc != 0) {
    throw Failure(FailureKind::transient,
                  "cannot resolve " + quote(host) + ": " + ::gai_strerror(rc));
  }
  std::string last_error = "no address";
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    int error = 0;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      error = errno;
      if (error == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(timeout.count() * 1000));
        socklen_t len = sizeof error;
        if (ready == 1) {
          ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
        } else {
          error = ETIMEDOUT;
        }
      }
    }
    if (error != 0) {
      last_error = std::strerror(error);
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) {
    throw Failure(FailureKind::transient, "cannot connect to " + where + ": " + last_error);
  }
  // libssh runs the socket in blocking mode; our deadlines bound each call.
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
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
    ssh_key key = nullptr;
    if (matches && ssh_pki_import_pubkey_base64(blob.c_str(), ssh_key_type_from_name(type.c_str()),
                                                &key) == SSH_OK) {
      found += (found.empty() ? "" : " or ") + fingerprint(key);
      ssh_key_free(key);
    }
  }
  return found.empty() ? "another key" : found;
}

bool same_socket(int fd, int other) {
  struct stat a {
  }, b{};
  return ::fstat(fd, &a) == 0 && ::fstat(other, &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

}  // namespace

struct SftpDropzone::Session {
  int fd = -1;        // the ssh socket
  int watch_fd = -1;  // a duplicate the deadlines shut down: never reused while armed
  ssh_session ssh = nullptr;
  sftp_session sftp = nullptr;
  bool fsync_supported = false;
  std::set<std::string> swept;

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  explicit Session(int socket) : fd(socket), watch_fd(::fcntl(socket, F_DUPFD_CLOEXEC, 0)) {
    if (watch_fd < 0) {
      ::close(fd);
      throw Failure(FailureKind::transient,
                    std::string("cannot duplicate a socket: ") + std::strerror(errno));
    }
  }
  ~Session() {
    close_ssh();
    ::close(watch_fd);
  }

  void close_ssh() {
    if (sftp != nullptr) {
      sftp_free(sftp);
      sftp = nullptr;
    }
    if (ssh != nullptr) {
      ssh_disconnect(ssh);
      ssh_free(ssh);
      ssh = nullptr;
    }
    // libssh leaves a socket given with SSH_OPTIONS_FD open, except on paths
    // where it closed it itself; close it only while it is still ours.
    if (fd >= 0 && same_socket(fd, watch_fd)) {
      ::close(fd);
    }
    fd = -1;
  }

  bool connected() const {
    return ssh != nullptr && ssh_is_connected(ssh) != 0 &&
           (ssh_get_status(ssh) & (SSH_CLOSED | SSH_CLOSED_ERROR)) == 0 &&
           (sftp == nullptr ||
            (ssh_channel_is_open(sftp->channel) != 0 && ssh_channel_is_eof(sftp->channel) == 0));
  }
};

// One SFTP call (or a few) under an armed deadline, with the helpers that
// turn libssh's results into classified failures.
class SftpDropzone::Call {
 public:
  Call(SftpDropzone& owner, Session& session)
      : owner_(owner),
        s_(session),
        guard_(owner.deadlines_.arm(session.watch_fd, owner.options_.operation_timeout)) {}

  // The handle for the next SFTP request. libssh keeps the last status
  // until another status reply arrives, so it is cleared here: a request
  // that fails without any reply (the session broke) must not be judged by
  // an older request's status.
  sftp_session sftp() const {
    s_.sftp->errnum = SSH_FX_OK;
    return s_.sftp;
  }
  Session& session() const { return s_; }

  // The SFTP status of the last failed call; 0 when the session itself broke.
  int status() const {
    if (guard_.expired() || !s_.connected()) {
      return 0;
    }
    return sftp_get_error(s_.sftp);
  }

  [[noreturn]] void fail(const std::string& operation) const { fail(operation, status()); }

  // `code`: the status of the request that failed, saved before others ran.
  [[noreturn]] void fail(const std::string& operation, int code) const {
    if (guard_.expired()) {
      throw SessionLost(operation + ": no answer from " + owner_.endpoint() + " within " +
                            std::to_string(owner_.options_.operation_timeout.count()) + " s",
                        true);
    }
    switch (code) {
      case 0:
      case SSH_FX_NO_CONNECTION:
      case SSH_FX_CONNECTION_LOST:
      case SSH_FX_BAD_MESSAGE:
        throw SessionLost(operation + ": connection to " + owner_.endpoint() + " lost (" +
                              ssh_get_error(s_.ssh) + ")",
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
        throw Failure(FailureKind::transient, operation +
                                                  ": the server reported a failure (SFTP status " +
                                                  std::to_string(code) + ")");
    }
  }

  // Attributes of `path` without following a symlink; nullptr when missing.
  sftp_attributes lstat(const std::string& path) const {
    sftp_attributes attributes = sftp_lstat(sftp(), path.c_str());
    if (attributes == nullptr && status() != SSH_FX_NO_SUCH_FILE &&
        status() != SSH_FX_NO_SUCH_PATH) {
      fail("cannot check " + quote(path));
    }
    return attributes;
  }

  // Removes `path`; one that is already gone is fine.
  void remove(const std::string& path) const {
    if (sftp_unlink(sftp(), path.c_str()) != 0 && status() != SSH_FX_NO_SUCH_FILE) {
      fail("cannot remove " + quote(path));
    }
  }

  bool exists(const std::string& path) const {
    sftp_attributes attributes = lstat(path);
    sftp_attributes_free(attributes);
    return attributes != nullptr;
  }

  void make_directories(const std::string& directory) const {
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
        sftp_attributes attributes = lstat(walked);
        const bool is_directory =
            attributes != nullptr && attributes->type == SSH_FILEXFER_TYPE_DIRECTORY;
        sftp_attributes_free(attributes);
        if (!is_directory) {
          fail("cannot create directory " + quote(walked), refused);
        }
      }
    }
  }

  // Lists `directory`, calling `visit` with each entry's attributes.
  template <typename Visit>
  void list(const std::string& directory, Visit&& visit) const {
    sftp_dir dir = sftp_opendir(sftp(), directory.c_str());
    if (dir == nullptr) {
      fail("cannot list " + quote(directory));
    }
    while (sftp_attributes attributes = sftp_readdir(sftp(), dir)) {
      visit(*attributes);
      sftp_attributes_free(attributes);
    }
    const bool complete = sftp_dir_eof(dir) != 0;
    sftp_closedir(dir);
    if (!complete) {
      fail("cannot list " + quote(directory));
    }
  }

  void sweep_stale_temp_files(const std::string& directory) const {
    if (!s_.swept.insert(directory).second) {
      return;
    }
    std::vector<std::string> abandoned;
    const auto now = std::chrono::system_clock::now();
    try {
      list(directory, [&](const sftp_attributes_struct& a) {
        if (a.name != nullptr && a.type == SSH_FILEXFER_TYPE_REGULAR &&
            is_abandoned_temp_file(a.name, std::chrono::system_clock::from_time_t(a.mtime), now)) {
          abandoned.emplace_back(a.name);
        }
      });
    } catch (const Failure&) {
      return;  // the write that follows reports a broken directory properly
    }
    for (const auto& name : abandoned) {
      sftp_unlink(sftp(), (directory + "/" + name).c_str());
    }
  }

 private:
  SftpDropzone& owner_;
  Session& s_;
  SocketDeadlines::Guard guard_;
};

SftpDropzone::SftpDropzone(ConnectionSettings settings, SftpOptions options,
                           SocketDeadlines& deadlines)
    : settings_(std::move(settings)), options_(std::move(options)), deadlines_(deadlines) {}

SftpDropzone::~SftpDropzone() {
  drop_session();
}

std::string SftpDropzone::endpoint() const {
  return quote(settings_.host + ":" + std::to_string(settings_.port));
}

void SftpDropzone::drop_session() {
  if (!session_) {
    return;
  }
  auto closing = std::move(session_);
  // Teardown talks to the server too; it gets the same deadline. The guard
  // is gone before ~Session closes the descriptor it watches.
  auto guard = deadlines_.arm(closing->watch_fd, options_.operation_timeout);
  if (!closing->connected()) {
    ::shutdown(closing->watch_fd, SHUT_RDWR);
  }
  closing->close_ssh();
}

template <typename Fn>
auto SftpDropzone::with_session(Fn&& operation) {
  for (int attempt = 0;; ++attempt) {
    const bool reused = session_ != nullptr;
    if (!session_) {
      session_ = open_session();
    }
    std::optional<SessionLost> lost;
    try {
      Call call(*this, *session_);
      remove_orphaned_temp_files(call);
      return operation(call);
    } catch (const SessionLost& e) {
      lost.emplace(e);
    }
    drop_session();
    if (!reused || attempt > 0 || lost->timed_out()) {
      throw Failure(FailureKind::transient, lost->what());
    }
  }
}

void SftpDropzone::connect() {
  with_session([](Call&) { return 0; });
}

void SftpDropzone::remove_orphaned_temp_files(Call& call) {
  while (!orphaned_temp_files_.empty()) {
    call.remove(orphaned_temp_files_.back());
    orphaned_temp_files_.pop_back();
  }
}

void SftpDropzone::left_behind(const std::string& path, bool atomic) {
  if (atomic) {
    orphaned_temp_files_.push_back(path);
  } else {
    incomplete_direct_writes_.insert(path);
  }
}

std::unique_ptr<SftpDropzone::Session> SftpDropzone::open_session() {
  if (settings_.mode != DropzoneMode::sftp) {
    throw Failure(FailureKind::permanent, "the connection is not in sftp mode");
  }
  auto session = std::make_unique<Session>(
      open_tcp(settings_.host, settings_.port, std::chrono::seconds(settings_.connect_timeout_s)));
  auto guard = deadlines_.arm(session->watch_fd, options_.operation_timeout);
  const auto fail = [&](FailureKind kind, const std::string& what) {
    if (guard.expired()) {
      throw Failure(FailureKind::transient, what + ": no answer from " + endpoint() + " within " +
                                                std::to_string(options_.operation_timeout.count()) +
                                                " s");
    }
    throw Failure(kind, what + ": " + ssh_get_error(session->ssh));
  };

  session->ssh = ssh_new();
  if (session->ssh == nullptr) {
    throw Failure(FailureKind::transient, "cannot create an ssh session");
  }
  int fd = session->fd;
  const int verbosity = SSH_LOG_NOLOG;
  const int process_config = 0;
  const long timeout_s = options_.operation_timeout.count();
  const unsigned int port = static_cast<unsigned int>(settings_.port);
  ssh_options_set(session->ssh, SSH_OPTIONS_FD, &fd);
  ssh_options_set(session->ssh, SSH_OPTIONS_HOST, settings_.host.c_str());
  ssh_options_set(session->ssh, SSH_OPTIONS_PORT, &port);
  ssh_options_set(session->ssh, SSH_OPTIONS_USER, settings_.username.c_str());
  ssh_options_set(session->ssh, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
  ssh_options_set(session->ssh, SSH_OPTIONS_PROCESS_CONFIG, &process_config);
  ssh_options_set(session->ssh, SSH_OPTIONS_TIMEOUT, &timeout_s);
  // Only the daemon's own known_hosts: never ~/.ssh or /etc/ssh.
  ssh_options_set(session->ssh, SSH_OPTIONS_KNOWNHOSTS, options_.known_hosts_path.c_str());
  ssh_options_set(session->ssh, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, options_.known_hosts_path.c_str());

  if (ssh_connect(session->ssh) != SSH_OK) {
    fail(FailureKind::transient, "cannot open an ssh session with " + endpoint());
  }
  verify_host_key(*session);
  authenticate(*session);
  session->sftp = sftp_new(session->ssh);
  if (session->sftp == nullptr || sftp_init(session->sftp) != SSH_OK) {
    fail(FailureKind::transient, "cannot start sftp on " + endpoint());
  }
  session->fsync_supported = sftp_extension_supported(session->sftp, "fsync@openssh.com", "1");
  return session;
}

void SftpDropzone::verify_host_key(Session& session) {
  ssh_key key = nullptr;
  if (ssh_get_server_publickey(session.ssh, &key) != SSH_OK) {
    throw Failure(FailureKind::transient, "cannot read the host key of " + endpoint());
  }
  std::string seen;
  try {
    seen = fingerprint(key);
  } catch (...) {
    ssh_key_free(key);
    throw;
  }
  ssh_key_free(key);

  if (const auto& pins = settings_.host_key_sha256; !pins.empty()) {
    if (std::find(pins.begin(), pins.end(), seen) == pins.end()) {
      std::string expected;
      for (const auto& pin : pins) {
        expected += (expected.empty() ? "" : ", ") + pin;
      }
      throw Failure(FailureKind::permanent, "host key of " + endpoint() +
                                                " refused: the server presented " + seen +
                                                ", host_key_sha256 pins " + expected);
    }
    return;
  }
  const std::string known_hosts = quote(options_.known_hosts_path);
  switch (ssh_session_is_known_server(session.ssh)) {
    case SSH_KNOWN_HOSTS_OK:
      return;
    case SSH_KNOWN_HOSTS_CHANGED:
    case SSH_KNOWN_HOSTS_OTHER: {
      const std::string expected =
          known_fingerprints(options_.known_hosts_path, settings_.host, settings_.port);
      throw Failure(FailureKind::permanent, "host key of " + endpoint() +
                                                " refused: the server presented " + seen + ", " +
                                                known_hosts + " expects " + expected);
    }
    case SSH_KNOWN_HOSTS_UNKNOWN:
    case SSH_KNOWN_HOSTS_NOT_FOUND:
      throw Failure(FailureKind::permanent,
                    "host key of " + endpoint() + " refused: the server presented " + seen +
                        ", which " + known_hosts +
                        " does not list (expected: a known key; add it or pin host_key_sha256)");
    default:
      throw Failure(FailureKind::permanent, "cannot check the host key of " + endpoint() +
                                                " against " + known_hosts + ": " +
                                                ssh_get_error(session.ssh));
  }
}

void SftpDropzone::authenticate(Session& session) {
  const std::string who = quote(settings_.username) + " on " + endpoint();
  int result = SSH_AUTH_ERROR;
  if (settings_.auth == "password") {
    if (settings_.password.empty()) {
      throw Failure(FailureKind::permanent,
                    "no password is stored for " + who +
                        " (store one with 'connection set --password-stdin')");
    }
    result = ssh_userauth_password(session.ssh, nullptr, settings_.password.c_str());
  } else {
    ssh_key key = nullptr;
    const char* passphrase =
        settings_.key_passphrase.empty() ? nullptr : settings_.key_passphrase.c_str();
    if (ssh_pki_import_privkey_file(settings_.private_key_path.c_str(), passphrase, nullptr,
                                    nullptr, &key) != SSH_OK) {
      throw Failure(FailureKind::permanent,
                    "cannot load private key " + quote(settings_.private_key_path) +
                        " (missing, unreadable, or the passphrase is wrong)");
    }
    result = ssh_userauth_publickey(session.ssh, nullptr, key);
    ssh_key_free(key);
  }
  switch (result) {
    case SSH_AUTH_SUCCESS:
      return;
    case SSH_AUTH_DENIED:
    case SSH_AUTH_PARTIAL:
      throw Failure(FailureKind::permanent,
                    "authentication as " + who + " refused (" + settings_.auth + ")");
    default:
      throw Failure(FailureKind::transient,
                    "cannot authenticate as " + who + ": " + ssh_get_error(session.ssh));
  }
}

WriteResult SftpDropzone::write_file(const std::string& directory, const std::string& name,
                                     std::string_view bytes, WriteOptions options) {
  check_file_name(name);
  const std::string dir = normalize_absolute_path(directory);
  const std::string final_path = dir + "/" + name;
  return with_session([&](Call& call) -> WriteResult {
    call.sweep_stale_temp_files(dir);
    // No existence check up front for temp writes: the rename fails when the
    // final name exists, and the name is checked then. One round trip less on
    // every delivery. A direct write looks first, so that a file found after
    // a broken create can only be its own.
    if (!options.atomic) {
      sftp_attributes found = call.lstat(final_path);
      const bool left_incomplete = found != nullptr &&
                                   incomplete_direct_writes_.contains(final_path) &&
                                   found->size != bytes.size();
      const bool present = found != nullptr && !left_incomplete;
      sftp_attributes_free(found);
      if (left_incomplete) {
        call.remove(final_path);
      }
      incomplete_direct_writes_.erase(final_path);
      if (present) {
        return {final_path, true};
      }
    }
    const std::string write_name = options.atomic ? temp_file_name(name, new_temp_token()) : name;
    const std::string write_path = dir + "/" + write_name;
    const TempFileInProgress in_progress(write_name);
    const int flags = O_WRONLY | O_CREAT | O_EXCL;
    sftp_file file = sftp_open(call.sftp(), write_path.c_str(), flags, 0640);
    if (file == nullptr &&
        (call.status() == SSH_FX_NO_SUCH_FILE || call.status() == SSH_FX_NO_SUCH_PATH)) {
      call.make_directories(dir);
      file = sftp_open(call.sftp(), write_path.c_str(), flags, 0640);
    }
    if (file == nullptr) {
      if (call.status() == 0) {
        // The server may have created the file before the session broke.
        left_behind(write_path, options.atomic);
      } else if (!options.atomic && call.exists(final_path)) {
        return {final_path, true};
      }
      call.fail("cannot create " + quote(write_path));
    }
    // A direct write is the delivery itself once its bytes are through: from
    // then on it is never removed, whatever fails after.
    bool delivered = false;
    try {
      for (size_t offset = 0; offset < bytes.size();) {
        const size_t chunk = std::min(kWriteChunk, bytes.size() - offset);
        call.sftp();
        const ssize_t n = sftp_write(file, bytes.data() + offset, chunk);
        if (n <= 0) {
          call.fail("cannot write " + quote(write_path));
        }
        offset += static_cast<size_t>(n);
      }
      call.sftp();
      if (options.sync && call.session().fsync_supported && sftp_fsync(file) != 0) {
        call.fail("cannot fsync " + quote(write_path));
      }
      delivered = !options.atomic;
      sftp_file closing = file;
      file = nullptr;
      call.sftp();
      if (sftp_close(closing) != SSH_NO_ERROR) {
        call.fail("cannot close " + quote(write_path));
      }
      if (!options.atomic) {
        return {final_path, false};
      }
      if (sftp_rename(call.sftp(), write_path.c_str(), final_path.c_str()) != 0) {
        if (call.status() != 0 && call.exists(final_path)) {
          sftp_unlink(call.sftp(), write_path.c_str());
          return {final_path, true};
        }
        call.fail("cannot rename " + quote(write_path) + " to " + quote(final_path));
      }
    } catch (...) {
      if (file != nullptr) {
        sftp_close(file);
      }
      // A temp file that cannot be removed now is removed first thing on
      // the next session: our process still lives, so no sweep would take
      // it. A partial direct write must not pass for a delivery: it goes
      // now, or at this export's next attempt through this dropzone.
      if (!delivered &&
          (!call.session().connected() || (sftp_unlink(call.sftp(), write_path.c_str()) != 0 &&
                                           call.status() != SSH_FX_NO_SUCH_FILE))) {
        left_behind(write_path, options.atomic);
      }
      throw;
    }
    return {final_path, false};
  });
}

void SftpDropzone::sync_directory(const std::string&) {}

std::vector<DirectoryEntry> SftpDropzone::list_files(const std::string& directory) {
  const std::string dir = normalize_absolute_path(directory);
  return with_session([&](Call& call) {
    std::vector<DirectoryEntry> files;
    call.list(dir, [&](const sftp_attributes_struct& a) {
      if (a.name != nullptr && a.type == SSH_FILEXFER_TYPE_REGULAR) {
        files.push_back({a.name, static_cast<std::int64_t>(a.size),
                         std::chrono::system_clock::from_time_t(a.mtime)});
      }
    });
    return files;
  });
}

std::optional<std::string> SftpDropzone::read_file(const std::string& directory,
                                                   const std::string& name, size_t max_bytes) {
  check_file_name(name);
  const std::string path = normalize_absolute_path(directory) + "/" + name;
  return with_session([&](Call& call) -> std::optional<std::string> {
    sftp_attributes attributes = call.lstat(path);
    if (attributes == nullptr) {
      throw Failure(FailureKind::transient, "cannot read " + quote(path) + ": no such file");
    }
    const bool regular = attributes->type == SSH_FILEXFER_TYPE_REGULAR;
    const auto size = attributes->size;
    sftp_attributes_free(attributes);
    if (!regular) {
      throw Failure(FailureKind::permanent,
                    "cannot read " + quote(path) + ": it is not a regular file");
    }
    if (size > max_bytes) {
      return std::nullopt;
    }
    sftp_file file = sftp_open(call.sftp(), path.c_str(), O_RDONLY, 0);
    if (file == nullptr) {
      call.fail("cannot open " + quote(path));
    }
    // The file may grow, or be swapped, after the check: never read past the cap.
    std::string bytes(max_bytes + 1, '\0');
    size_t used = 0;
    while (used < bytes.size()) {
      call.sftp();
      const ssize_t n =
          sftp_read(file, bytes.data() + used, std::min(kWriteChunk, bytes.size() - used));
      if (n < 0) {
        sftp_close(file);
        call.fail("cannot read " + quote(path));
      }
      if (n == 0) {
        break;
      }
      used += static_cast<size_t>(n);
    }
    sftp_close(file);
    if (used > max_bytes) {
      return std::nullopt;
    }
    bytes.resize(used);
    return bytes;
  });
}

bool SftpDropzone::move_file(const std::string& directory, const std::string& name,
                             const std::string& to_directory, const std::string& to_name) {
  check_file_name(name);
  check_file_name(to_name);
  const std::string from = normalize_absolute_path(directory) + "/" + name;
  const std::string to = normalize_absolute_path(to_directory) + "/" + to_name;
  return with_session([&](Call& call) {
    if (sftp_rename(call.sftp(), from.c_str(), to.c_str()) != 0) {
      if (call.status() != 0 && call.exists(to)) {
        return false;
      }
      call.fail("cannot move " + quote(from) + " to " + quote(to));
    }
    return true;
  });
}

void SftpDropzone::remove_file(const std::string& directory, const std::string& name) {
  check_file_name(name);
  const std::string path = normalize_absolute_path(directory) + "/" + name;
  with_session([&](Call& call) {
    call.remove(path);
    return 0;
  });
}

void SftpDropzone::make_directory(const std::string& directory) {
  const std::string dir = normalize_absolute_path(directory);
  with_session([&](Call& call) {
    call.make_directories(dir);
    return 0;
  });
}

}  // namespace exportd
