// Dropzone on an SFTP server, over libssh. One instance owns one SSH session,
// opened on first use, kept across calls and opened again after a drop; it
// serves one thread at a time (the daemon keeps one per worker and
// connection). Never reads ~/.ssh/config or the system ssh configuration,
// never accepts a host key it cannot verify, and no call blocks longer than
// the operation timeout (see SocketDeadlines).
#pragma once

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "domain/connection_settings.h"
#include "ports/dropzone.h"

namespace exportd {

class SocketDeadlines;

struct SftpOptions {
  // The daemon's known_hosts, used when the settings pin no host key.
  std::string known_hosts_path;
  std::chrono::seconds operation_timeout{30};
};

class SftpDropzone : public Dropzone {
 public:
  // `settings` must be sftp mode, with the password or key passphrase
  // (decrypted from the connection's secret) filled in where needed.
  SftpDropzone(ConnectionSettings settings, SftpOptions options, SocketDeadlines& deadlines);
  ~SftpDropzone() override;
  SftpDropzone(const SftpDropzone&) = delete;
  SftpDropzone& operator=(const SftpDropzone&) = delete;

  WriteResult write_file(const std::string& directory, const std::string& name,
                         std::string_view bytes, WriteOptions options) override;
  // SFTP has no directory flush; the file itself was flushed before the
  // rename where the server offers fsync@openssh.com.
  void sync_directory(const std::string& directory) override;
  std::vector<DirectoryEntry> list_files(const std::string& directory) override;
  std::optional<std::string> read_file(const std::string& directory, const std::string& name,
                                       size_t max_bytes) override;
  bool move_file(const std::string& directory, const std::string& name,
                 const std::string& to_directory, const std::string& to_name) override;
  void remove_file(const std::string& directory, const std::string& name) override;
  void make_directory(const std::string& directory) override;

  // Connects now if no session is open (for `connection test` and tests).
  void connect();

 private:
  struct Session;
  class Call;

  template <typename Fn>
  auto with_session(Fn&& operation);
  std::unique_ptr<Session> open_session();
  void verify_host_key(Session& session);
  void authenticate(Session& session);
  void drop_session();
  // Temp files a broken session could not remove, removed on the next one.
  void remove_orphaned_temp_files(Call& call);
  // Remembers a file a broken session may have left half written.
  void left_behind(const std::string& path, bool atomic);
  std::string endpoint() const;

  ConnectionSettings settings_;
  SftpOptions options_;
  SocketDeadlines& deadlines_;
  std::unique_ptr<Session> session_;
  std::vector<std::string> orphaned_temp_files_;
  // Final names of direct writes a broken session left incomplete. Removed
  // only by the next write of the same name, while its export is being
  // delivered (so not recorded), and only while still incomplete: by then
  // another attempt may have delivered the name.
  std::set<std::string> incomplete_direct_writes_;
};

}  // namespace exportd
