// A throwaway S3-compatible server (s3rver, installed pinned into
// .test-tools/ by scripts/install-test-tools.sh) on a free loopback port,
// storing in a temp directory, with one bucket. It accepts the one key pair
// S3RVER / S3RVER and checks Signature Version 2 only: any well-formed
// Version 4 signature passes.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

namespace exportd::testing {

class Process;

class S3Server {
 public:
  static constexpr const char* kAccessKeyId = "S3RVER";
  static constexpr const char* kSecretKey = "S3RVER";

  // Throws, saying how to install it, when s3rver is not installed.
  explicit S3Server(std::string bucket = "exports");
  ~S3Server();
  S3Server(const S3Server&) = delete;
  S3Server& operator=(const S3Server&) = delete;

  std::string endpoint() const {
    return std::string("http://127.0.0.1:").append(std::to_string(port_));
  }
  const std::string& bucket() const { return bucket_; }
  // Where s3rver keeps an object's bytes and its metadata (a JSON file of
  // the headers it stores, x-amz-meta-* among them).
  std::filesystem::path object_file(const std::string& key) const;
  std::filesystem::path metadata_file(const std::string& key) const;

 private:
  std::string bucket_;
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<Process> server_;
};

}  // namespace exportd::testing
