// Temp files of interrupted writes, shared by the dropzone adapters: every
// temp name carries a token saying which host and process wrote it, so a
// sweep can tell a crashed writer's leftovers from a write in progress.
#pragma once

#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ports/dropzone.h"

namespace exportd {

// "{host tag}-{pid}-{8 random hex digits}", the token inside temp_file_name.
std::string new_temp_token();

// This host's tag: host_tag_for the machine id (/etc/machine-id), or for the
// host name where there is none.
const std::string& host_tag();

// Up to 8 decimal digits from a keyed BLAKE2b hash of `machine_id`: the same
// for every process and every build on one machine, so a daemon sweeping after
// an upgrade still knows its host's leftovers; the id itself is not revealed.
std::string host_tag_for(std::string_view machine_id);

// Marks a temp file name as being written by this process for the guard's
// lifetime, so sweeps leave it alone.
class TempFileInProgress {
 public:
  explicit TempFileInProgress(std::string name);
  ~TempFileInProgress();
  TempFileInProgress(const TempFileInProgress&) = delete;
  TempFileInProgress& operator=(const TempFileInProgress&) = delete;

 private:
  std::string name_;
};

// True when the temp file `name`, last modified at `modified`, was left by a
// writer that is gone: this process when no write of it is in progress (a
// broken session left it), a dead process on this host, or any writer once
// the file is an hour old (a writer on another host cannot be asked).
bool is_abandoned_temp_file(std::string_view name, std::chrono::system_clock::time_point modified,
                            std::chrono::system_clock::time_point now);

// The abandoned temp files among a directory's regular files: what a sweep
// removes before the first write to that directory.
std::vector<std::string> abandoned_temp_files(const std::vector<DirectoryEntry>& files,
                                              std::chrono::system_clock::time_point now);

// The directories already swept, so each is swept once per dropzone (or
// SFTP session). Thread-safe.
class SweptDirectories {
 public:
  // True the first time `directory` is asked about, false ever after.
  bool first_visit(const std::string& directory);

 private:
  std::mutex mutex_;
  std::set<std::string> seen_;
};

}  // namespace exportd
