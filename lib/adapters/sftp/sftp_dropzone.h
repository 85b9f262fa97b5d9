// Dropzone on an SFTP server, over libssh. One instance owns one SSH session
// (see SftpSession), opened on first use, kept across calls and opened again
// after a drop; it serves one thread at a time (the daemon keeps one per
// worker and connection). No call blocks longer than the operation timeout
// (see SocketDeadlines).
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "adapters/sftp/sftp_session.h"
#include "domain/connection_settings.h"
#include "ports/dropzone.h"

namespace exportd {

class SftpCall;
class SocketDeadlines;

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
  // SFTP has no directory flush (capabilities() says so): nothing to do.
  void sync_directory(const std::string& directory) override;
  // file_sync: the server of the last session offers fsync@openssh.com.
  DropzoneCapabilities capabilities() const override;
  std::vector<DirectoryEntry> list_files(const std::string& directory) override;
  std::optional<std::string> read_file(const std::string& directory, const std::string& name,
                                       size_t max_bytes) override;
  bool move_file(const std::string& directory, const std::string& name,
                 const std::string& to_directory, const std::string& to_name) override;
  void remove_file(const std::string& directory, const std::string& name) override;
  void make_directory(const std::string& directory) override;
  std::vector<std::string> list_directories(const std::string& directory) override;
  // Each request under a deadline of its own: a day's folder may hold
  // thousands of files.
  size_t remove_directory(const std::string& directory) override;

  // Connects now if no session is open (for `connection test` and tests).
  void connect();

 private:
  // Runs `operation` with a call on the open session (opening one first);
  // a reused session found lost is replaced and the operation tried once more.
  template <typename Fn>
  auto with_session(Fn&& operation);
  // Temp files a broken session could not remove, removed on the next one.
  void remove_orphaned_temp_files(SftpCall& call);
  // Remembers a file a broken session may have left half written.
  void left_behind(const std::string& path, bool atomic);

  ConnectionSettings settings_;
  SftpOptions options_;
  SocketDeadlines& deadlines_;
  std::unique_ptr<SftpSession> session_;
  bool file_sync_ = false;  // as the last session's server said
  std::vector<std::string> orphaned_temp_files_;
  // Final names of direct writes a broken session left incomplete. Removed
  // only by the next write of the same name, while its export is being
  // delivered (so not recorded), and only while still incomplete: by then
  // another attempt may have delivered the name.
  std::set<std::string> incomplete_direct_writes_;
};

}  // namespace exportd
