// Ids given on the command line (drafts, exports, actors) are uuids; a
// malformed one is the operator's input error, refused before any query.
#pragma once

#include <string>
#include <string_view>

namespace exportd {

// Throws Failure(bad_config) "{what} '{value}' is not a uuid" unless `value`
// is a uuid in its text form.
void check_uuid(std::string_view what, const std::string& value);

}  // namespace exportd
