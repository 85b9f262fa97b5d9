// Health of everything the daemon delivers to, shared by all workers and the
// ack poller. Two breakers guard each delivery: its endpoint's (the server,
// host:port), which transient failures open, so the connections to one dead
// server share its fate instead of each paying for its own failures; and its
// connection's, which a failure only an operator fixes (credentials, a
// read-only directory) opens at once, since the server's other connections
// are not at fault. One log line per state change (never one per export),
// and each connection's state told to the metrics: the worse of the two.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "app/circuit_publisher.h"
#include "domain/circuit_breaker.h"
#include "ports/metrics.h"

namespace exportd {

// Where a connection's files go: its id and its endpoint
// (delivery_endpoint(settings)).
struct DeliveryRoute {
  std::string connection_id;
  std::string endpoint;
  // A server across the network, which may take a call and never answer; a
  // local directory answers or fails at once.
  bool network = false;
};

class ConnectionHealth {
 public:
  using Now = std::function<CircuitBreaker::Clock::time_point()>;

  explicit ConnectionHealth(Metrics& metrics, CircuitBreaker::Options options = {},
                            Now now = CircuitBreaker::Clock::now);

  // Also told each connection's state when it changes, as the metrics are
  // (under the lock: it must not block). Set before any worker starts.
  void publish_to(CircuitPublisher& publisher) { publisher_ = &publisher; }

  // Allowed when both breakers allow; a trial is taken only then.
  CircuitBreaker::Admission admit(const DeliveryRoute& route);
  // When neither breaker stops a call now: nullopt; else when to ask again.
  // Takes no trial (the ack poller's question).
  std::optional<CircuitBreaker::Clock::time_point> paused_until(const DeliveryRoute& route);
  // An admitted call not made after all: a trial it took is open again.
  void released(const DeliveryRoute& route);
  // The server answered as asked: both breakers close.
  void succeeded(const DeliveryRoute& route);
  // The endpoint answered (an ack poll): its breaker closes, the
  // connection's own pause stands.
  void endpoint_succeeded(const DeliveryRoute& route);
  // A transient failure reaching the server (network, timeout, server error):
  // counts against the endpoint.
  void failed(const DeliveryRoute& route, const std::string& error);
  // A failure only an operator fixes (Failure::unavailable): the server
  // answered, but the connection pauses at once. Returns when the pause ends.
  CircuitBreaker::Clock::time_point unavailable(const DeliveryRoute& route,
                                                const std::string& error);

  // A worker sent to the route's endpoint will not sit in a call that never
  // returns: its last call succeeded, or it is local and has not failed.
  // False for a network endpoint never reached.
  bool trusted(const DeliveryRoute& route);
  // The worse of the connection's and its endpoint's state.
  CircuitBreaker::State state(const std::string& connection_id);

 private:
  struct Endpoint {
    CircuitBreaker breaker;
    bool proven = false;
    std::pair<CircuitBreaker::State, int> reported{CircuitBreaker::State::closed, -1};
  };
  using Time = CircuitBreaker::Clock::time_point;

  CircuitBreaker& connection_breaker(const std::string& connection_id);
  Endpoint& endpoint(const DeliveryRoute& route);
  // With mutex_ held, after a change to the route's breakers: tells the
  // metrics the state of each connection it changed (all of the endpoint's
  // when the endpoint's breaker moved).
  void report_changes(const DeliveryRoute& route);
  void report(const std::string& connection_id);

  Metrics& metrics_;
  CircuitPublisher* publisher_ = nullptr;
  CircuitBreaker::Options options_;
  Now now_;
  std::mutex mutex_;
  std::map<std::string, CircuitBreaker> connections_;
  std::map<std::string, Endpoint> endpoints_;
  std::map<std::string, std::string> endpoint_of_;  // by connection id
  std::map<std::string, std::pair<CircuitBreaker::State, int>> reported_;
};

}  // namespace exportd
