// The archive in an S3-compatible object store (AWS S3, MinIO, Ceph RGW):
// path-style requests signed with AWS Signature Version 4 by libcurl, each
// under a deadline (docs/operations.md, "Archive").
#pragma once

#include <chrono>
#include <string>

#include "ports/archive.h"

namespace exportd {

struct S3ArchiveSettings {
  std::string endpoint;  // "https://s3.eu-central-1.amazonaws.com", "http://127.0.0.1:9000"
  std::string bucket;
  std::string region;
  std::string prefix;  // put before every name: "exports/"
  std::string access_key_id;
  std::string secret_key;  // never logged, never in a message
  // The longest one request may take, connecting included.
  std::chrono::milliseconds timeout{30000};
};

class S3Archive final : public Archive {
 public:
  explicit S3Archive(S3ArchiveSettings settings);
  ~S3Archive() override;
  S3Archive(const S3Archive&) = delete;
  S3Archive& operator=(const S3Archive&) = delete;

  // The location is the object key, `{prefix}{name}`; the sha256 travels as
  // the object's metadata x-amz-meta-sha256.
  std::string put(const std::string& name, std::string_view bytes,
                  const std::string& sha256_hex) override;
  std::optional<std::string> get(const std::string& location) override;
  void remove(const std::string& location) override;

 private:
  S3ArchiveSettings settings_;
};

}  // namespace exportd
