#include "tests/support/redis_server.h"

#include <signal.h>

#include <filesystem>
#include <stdexcept>

#include "tests/support/process.h"

namespace exportd::testing {

RedisServer::RedisServer() : dir_(make_temp_dir("exportd-redis")), port_(free_port()) {
  start();
}

RedisServer::~RedisServer() {
  stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void RedisServer::start() {
  server_ = std::make_unique<Process>(
      Command{.argv = {"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                       "--save", "", "--appendonly", "no", "--dir", dir_},
              .stdout_path = dir_ + "/redis.log"});
  const bool up = eventually(
      [&] {
        return run({.argv = {"redis-cli", "-p", std::to_string(port_), "ping"},
                    .stdout_path = "/dev/null",
                    .stderr_path = "/dev/null"}) == 0;
      },
      std::chrono::seconds(10));
  if (!up) {
    throw std::runtime_error("redis-server did not start; see " + dir_ + "/redis.log");
  }
}

void RedisServer::stop() {
  if (server_) {
    server_->signal(SIGKILL);
    server_->wait(std::chrono::seconds(5));
    server_.reset();
  }
}

}  // namespace exportd::testing
