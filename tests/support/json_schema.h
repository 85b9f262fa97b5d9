// An independent judge of exported documents: python3-jsonschema with the
// published schema file, so the daemon's own contract check is never the
// only one.
#pragma once

#include <string>
#include <vector>

namespace exportd::testing {

// For each document (its exact bytes), whether it validates against the
// schema at `schema_path`. One python3 process for all of them; throws when
// python3, jsonschema or the schema cannot be used.
// docs/orderflow_export_json_v1.schema.json of this source tree.
std::string published_schema();

std::vector<bool> schema_accepts(const std::string& schema_path,
                                 const std::vector<std::string>& documents);

}  // namespace exportd::testing
