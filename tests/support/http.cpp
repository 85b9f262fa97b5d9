#include "tests/support/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sstream>

namespace exportd::testing {

HttpResponse http_request(int port, const std::string& method, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return {};
  }
  const std::string request = method + " " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string raw;
  char buffer[8192];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) {
    raw.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);

  HttpResponse response;
  const auto header_end = raw.find("\r\n\r\n");
  if (header_end == std::string::npos) {
    return response;
  }
  std::istringstream head(raw.substr(0, header_end));
  std::string line;
  std::getline(head, line);
  std::istringstream status_line(line);
  std::string version;
  status_line >> version >> response.status;
  while (std::getline(head, line)) {
    if (line.rfind("Content-Type: ", 0) == 0) {
      response.content_type = line.substr(14);
      if (!response.content_type.empty() && response.content_type.back() == '\r') {
        response.content_type.pop_back();
      }
    }
  }
  response.body = raw.substr(header_end + 4);
  return response;
}

}  // namespace exportd::testing
