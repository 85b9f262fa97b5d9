// The text form of a uuid: 8-4-4-4-12 hex digits, either case.
#include "domain/uuid.h"

#include <regex>

#include "domain/failure.h"

namespace exportd {

void check_uuid(std::string_view what, const std::string& value) {
  static const std::regex uuid(
      "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
  if (!std::regex_match(value, uuid)) {
    std::string message(what);
    message.append(" '").append(value).append("' is not a uuid");
    throw Failure(FailureKind::bad_config, message);
  }
}

}  // namespace exportd
