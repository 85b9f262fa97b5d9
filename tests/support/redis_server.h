// A throwaway redis-server on a free loopback port, no persistence; it can
// be stopped and started again to prove the fallbacks.
#pragma once

#include <memory>
#include <string>

namespace exportd::testing {

class Process;

class RedisServer {
 public:
  RedisServer();
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  void start();
  void stop();
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }

 private:
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<Process> server_;
};

}  // namespace exportd::testing
