// A minimal HTTP/1.0 client for tests of the metrics endpoint.
#pragma once

#include <string>

namespace exportd::testing {

struct HttpResponse {
  int status = 0;  // 0 when nothing answered
  std::string content_type;
  std::string body;
};

HttpResponse http_request(int port, const std::string& method, const std::string& path);

inline HttpResponse http_get(int port, const std::string& path) {
  return http_request(port, "GET", path);
}

}  // namespace exportd::testing
