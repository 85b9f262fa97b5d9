// Port: a place the ERP picks files up from (a local directory, an SFTP
// server). Implementations throw exportd::Failure: transient for conditions
// that may pass (network, disk full), permanent for ones that will not
// (path outside the allowed roots, permission denied, refused host key).
#pragma once

#include <string>
#include <string_view>

namespace exportd {

struct WriteOptions {
  // Write a temp name and rename it, so the ERP never sees a partial file.
  bool atomic = true;
  // Flush the file to stable storage before the rename.
  bool sync = true;
};

struct WriteResult {
  std::string path;              // full path of the final file
  bool already_present = false;  // an earlier attempt of this export delivered it
};

class Dropzone {
 public:
  virtual ~Dropzone() = default;

  // Writes `bytes` as `directory/name`. If `name` already exists there, an
  // earlier attempt of the same export delivered it: nothing is written and
  // already_present is set. Stale temp files of crashed attempts in
  // `directory` are removed the first time this dropzone writes there.
  virtual WriteResult write_file(const std::string& directory, const std::string& name,
                                 std::string_view bytes, WriteOptions options) = 0;

  // Makes every rename done in `directory` so far durable. Separate from
  // write_file so a batch of files shares one directory flush.
  virtual void sync_directory(const std::string& directory) = 0;
};

}  // namespace exportd
