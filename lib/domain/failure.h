// The one error taxonomy of the daemon. Adapters throw Failure with a kind; the
// worker loop is the one place that catches, classifies, retries and records.
#pragma once

#include <stdexcept>
#include <string>

namespace exportd {

enum class FailureKind {
  transient,   // network, server, disk full: retry with backoff
  permanent,   // bad connection settings, path outside roots: give up now
  refused,     // a state rule forbids it (exit 3 on the command line)
  bad_config,  // the daemon's own configuration is wrong (exit 2)
};

const char* to_string(FailureKind kind);

class Failure : public std::runtime_error {
 public:
  Failure(FailureKind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}
  FailureKind kind() const { return kind_; }

 private:
  FailureKind kind_;
};

}  // namespace exportd
