// Port: where the exact bytes of every delivered file are kept, so an
// operator can show what was sent and send it again (docs/operations.md,
// "Archive"): a directory, or an S3-compatible object store. Implementations
// throw exportd::Failure: transient when the store cannot be reached or
// cannot take the write now (a delivery is then retried, never recorded
// without its copy), bad_config when the store refuses our credentials or
// names a bucket or directory that does not exist.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace exportd {

class Archive {
 public:
  virtual ~Archive() = default;

  // Stores `bytes` as `name` ("acme/2026/11/23/sales_order_....json", from
  // archive_object_name) and makes them durable before returning; a copy
  // already there under that name is replaced (an earlier attempt of the same
  // export wrote the same bytes). `sha256_hex` travels with the copy where the
  // store keeps metadata. Returns the location to record in
  // erp_exports.archive_key: what get and remove of this store take back.
  virtual std::string put(const std::string& name, std::string_view bytes,
                          const std::string& sha256_hex) = 0;

  // The bytes at `location`, or nullopt when nothing is stored there.
  virtual std::optional<std::string> get(const std::string& location) = 0;

  // Removes the copy at `location`; a copy already gone is not an error.
  virtual void remove(const std::string& location) = 0;
};

}  // namespace exportd
