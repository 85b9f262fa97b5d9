// civetweb handlers for /metrics and /healthz; each request runs on one of
// civetweb's own threads.
#include "adapters/prometheus/metrics_endpoint.h"

#include <civetweb.h>

#include <array>

#include "domain/failure.h"

namespace exportd {

namespace {

void respond(mg_connection* conn, int status, const char* content_type, const std::string& body) {
  mg_response_header_start(conn, status);
  mg_response_header_add(conn, "Content-Type", content_type, -1);
  mg_response_header_add(conn, "Content-Length", std::to_string(body.size()).c_str(), -1);
  mg_response_header_add(conn, "Cache-Control", "no-store", -1);
  mg_response_header_send(conn);
  mg_write(conn, body.data(), body.size());
}

bool is_get(mg_connection* conn) {
  const mg_request_info* request = mg_get_request_info(conn);
  if (std::string(request->request_method) == "GET") {
    return true;
  }
  respond(conn, 405, "text/plain; charset=utf-8", "only GET\n");
  return false;
}

// What civetweb said while starting on this thread: its error text alone
// ("Failed to setup server ports") does not say why.
thread_local std::string start_messages;

// Later messages are about single requests, of no use in the daemon's log.
int keep_start_messages(const mg_connection*, const char* message) {
  start_messages += std::string(start_messages.empty() ? "" : "; ") + message;
  return 1;
}

}  // namespace

MetricsEndpoint::MetricsEndpoint(const std::string& listen, Scrape scrape, HealthProblem health,
                                 HealthNote note)
    : scrape_(std::move(scrape)), health_(std::move(health)), note_(std::move(note)) {
  std::array<const char*, 9> options = {
      "listening_ports", listen.c_str(),      "num_threads", "2",    "request_timeout_ms",
      "10000",           "enable_keep_alive", "no",          nullptr};
  mg_callbacks callbacks{};
  callbacks.log_message = keep_start_messages;
  mg_init_data init{
      .callbacks = &callbacks, .user_data = nullptr, .configuration_options = options.data()};
  std::array<char, 256> text{};
  unsigned code = 0;
  mg_error_data error{.code = &code, .text = text.data(), .text_buffer_size = text.size()};
  start_messages.clear();
  context_ = mg_start2(&init, &error);
  if (context_ == nullptr) {
    throw Failure(FailureKind::bad_config,
                  "cannot serve metrics on '" + listen +
                      "': " + (start_messages.empty() ? std::string(text.data()) : start_messages));
  }
  mg_set_request_handler(context_, "/metrics$", serve_metrics, this);
  mg_set_request_handler(context_, "/healthz$", serve_health, this);
}

MetricsEndpoint::~MetricsEndpoint() {
  mg_stop(context_);
}

int MetricsEndpoint::port() const {
  std::array<mg_server_port, 1> ports{};
  if (mg_get_server_ports(context_, static_cast<int>(ports.size()), ports.data()) < 1) {
    return 0;
  }
  return ports[0].port;
}

int MetricsEndpoint::serve_metrics(mg_connection* conn, void* self) {
  if (is_get(conn)) {
    respond(conn, 200, "text/plain; version=0.0.4; charset=utf-8",
            static_cast<MetricsEndpoint*>(self)->scrape_());
  }
  return 1;
}

int MetricsEndpoint::serve_health(mg_connection* conn, void* self) {
  if (is_get(conn)) {
    auto& endpoint = *static_cast<MetricsEndpoint*>(self);
    const auto problem = endpoint.health_();
    const std::string note = problem || !endpoint.note_ ? "" : endpoint.note_();
    respond(conn, problem ? 503 : 200, "text/plain; charset=utf-8",
            problem        ? *problem + "\n"
            : note.empty() ? "ok\n"
                           : "ok\n" + note + "\n");
  }
  return 1;
}

}  // namespace exportd
