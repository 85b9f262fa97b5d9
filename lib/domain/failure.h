// The one error taxonomy of the daemon. Adapters throw Failure with a kind; the
// worker loop is the one place that catches, classifies, retries and records.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace exportd {

enum class FailureKind {
  transient,  // network, server, disk full: retry with backoff
  // A condition of the connection an operator fixes (read-only, permission
  // denied, missing root): the connection pauses, exports wait without
  // spending attempts.
  unavailable,
  permanent,   // bad connection settings, path outside roots: give up now
  refused,     // a state rule forbids it (exit 3 on the command line)
  bad_config,  // the daemon's own configuration is wrong (exit 2)
};

const char* to_string(FailureKind kind);

class Failure : public std::runtime_error {
 public:
  Failure(FailureKind kind, const std::string& message);
  // `details`: an object of facts recorded beside the message in error_json,
  // e.g. the field and the rule a document breaks.
  Failure(FailureKind kind, const std::string& message, nlohmann::json details);
  FailureKind kind() const { return kind_; }
  const nlohmann::json& details() const;  // an object, empty when there are none

 private:
  FailureKind kind_;
  std::shared_ptr<const nlohmann::json> details_;  // shared: copying an exception must not throw
};

// The kind of any exception a caller caught: a Failure's own kind, else the
// one policy for the unexpected. Adapters turn every error of their technology
// into a Failure, so anything else (a json error, a broken invariant) is a bug
// or data the code does not handle, and the same input meets it again: it is
// permanent for the unit of work that met it. The export being built, written
// or recorded is FAILED instead of retried until its attempts run out; an ack
// file whose read fails so is skipped while the rest of its poll goes on (a
// poll that fails altogether backs off like any other, since an ack directory
// has no final state to give up into). Running out of memory says nothing
// about the input, so std::bad_alloc is transient.
FailureKind failure_kind_of(const std::exception& error);

}  // namespace exportd
