// Failure, the daemon's one exception type, and how any caught exception is
// classified (the policy is stated in failure.h).
#include "domain/failure.h"

#include <new>
#include <utility>

#include <nlohmann/json.hpp>

namespace exportd {

Failure::Failure(FailureKind kind, const std::string& message)
    : Failure(kind, message, nlohmann::json::object()) {}

Failure::Failure(FailureKind kind, const std::string& message, nlohmann::json details)
    : std::runtime_error(message),
      kind_(kind),
      details_(std::make_shared<const nlohmann::json>(std::move(details))) {}

const nlohmann::json& Failure::details() const {
  return *details_;
}

const char* to_string(FailureKind kind) {
  switch (kind) {
    case FailureKind::transient:
      return "transient";
    case FailureKind::unavailable:
      return "unavailable";
    case FailureKind::permanent:
      return "permanent";
    case FailureKind::refused:
      return "refused";
    case FailureKind::bad_config:
      return "bad_config";
  }
  return "unknown";
}

FailureKind failure_kind_of(const std::exception& error) {
  if (const auto* failure = dynamic_cast<const Failure*>(&error)) {
    return failure->kind();
  }
  if (dynamic_cast<const std::bad_alloc*>(&error) != nullptr) {
    return FailureKind::transient;
  }
  return FailureKind::permanent;
}

}  // namespace exportd
