#include "tests/support/s3_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include "tests/support/process.h"

namespace exportd::testing {

namespace {

bool accepts_connections(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return up;
}

}  // namespace

S3Server::S3Server(std::string bucket)
    : bucket_(std::move(bucket)), dir_(make_temp_dir("exportd-s3")), port_(free_port()) {
  const std::string binary = EXPORTD_S3RVER;
  if (!std::filesystem::exists(binary)) {
    std::filesystem::remove_all(dir_);
    throw std::runtime_error("s3rver is not installed at '" + binary +
                             "': run bash scripts/install-test-tools.sh (npm install --prefix "
                             ".test-tools s3rver@3.7.1)");
  }
  std::filesystem::create_directory(dir_ + "/data");
  server_ = std::make_unique<Process>(
      Command{.argv = {binary, "--directory", dir_ + "/data", "--address", "127.0.0.1", "--port",
                       std::to_string(port_), "--silent", "--configure-bucket", bucket_},
              .stdout_path = dir_ + "/s3rver.log",
              .stderr_path = dir_ + "/s3rver.log"});
  if (!eventually([&] { return accepts_connections(port_); }, std::chrono::seconds(20))) {
    throw std::runtime_error("s3rver did not start; see " + dir_ + "/s3rver.log");
  }
}

S3Server::~S3Server() {
  if (server_) {
    server_->signal(SIGKILL);
    server_->wait(std::chrono::seconds(5));
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::filesystem::path S3Server::object_file(const std::string& key) const {
  return dir_ + "/data/" + bucket_ + "/" + key + "._S3rver_object";
}

std::filesystem::path S3Server::metadata_file(const std::string& key) const {
  return dir_ + "/data/" + bucket_ + "/" + key + "._S3rver_metadata.json";
}

}  // namespace exportd::testing
