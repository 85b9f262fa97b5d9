// The HTTP side of the metrics: GET /metrics (Prometheus text format) and
// GET /healthz (200 "ok", or 503 and the reason) on civetweb, the server
// prometheus-cpp's own exposer is built on. Two handler threads: a scrape
// never competes with the deliveries for more.
#pragma once

#include <functional>
#include <optional>
#include <string>

struct mg_context;
struct mg_connection;

namespace exportd {

class MetricsEndpoint {
 public:
  using Scrape = std::function<std::string()>;
  // What is wrong with the daemon right now; nullopt when it is healthy.
  using HealthProblem = std::function<std::optional<std::string>()>;
  // Said under "ok" while healthy (workers on failing servers); empty: nothing.
  using HealthNote = std::function<std::string()>;

  // `listen` is "ADDRESS:PORT" ("[::1]:9464" for IPv6; port 0 picks a free
  // one). Throws Failure(bad_config) when it cannot listen there.
  MetricsEndpoint(const std::string& listen, Scrape scrape, HealthProblem health,
                  HealthNote note = {});
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  int port() const;

 private:
  static int serve_metrics(mg_connection* conn, void* self);
  static int serve_health(mg_connection* conn, void* self);

  Scrape scrape_;
  HealthProblem health_;
  HealthNote note_;
  mg_context* context_ = nullptr;
};

}  // namespace exportd
