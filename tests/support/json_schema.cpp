#include "tests/support/json_schema.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tests/support/process.h"

namespace exportd::testing {

std::string published_schema() {
  return EXPORTD_SCHEMA;
}

namespace {

// check_schema first: a schema the validator cannot read must not make
// every document look valid.
constexpr const char* kValidate = R"PY(
import json, sys, jsonschema
schema = json.load(open(sys.argv[1], encoding="utf-8"))
validator = jsonschema.validators.validator_for(schema)
validator.check_schema(schema)
checker = validator(schema)
for path in sys.argv[2:]:
    print(1 if checker.is_valid(json.load(open(path, encoding="utf-8"))) else 0)
)PY";

}  // namespace

std::vector<bool> schema_accepts(const std::string& schema_path,
                                 const std::vector<std::string>& documents) {
  if (!std::ifstream(schema_path).good()) {
    throw std::runtime_error("cannot read the schema '" + schema_path + "'");
  }
  const std::string dir = make_temp_dir("exportd-schema");
  Command command{.argv = {"/usr/bin/python3", "-c", kValidate, schema_path}};
  for (size_t i = 0; i < documents.size(); ++i) {
    const std::string path = dir + "/" + std::to_string(i) + ".json";
    std::ofstream(path, std::ios::binary) << documents[i];
    command.argv.push_back(path);
  }
  std::string output;
  try {
    output = run_capture(command);
  } catch (...) {
    std::filesystem::remove_all(dir);
    throw;
  }
  std::filesystem::remove_all(dir);
  std::vector<bool> accepted;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    accepted.push_back(line == "1");
  }
  if (accepted.size() != documents.size()) {
    throw std::runtime_error("python3 judged " + std::to_string(accepted.size()) + " of " +
                             std::to_string(documents.size()) + " documents");
  }
  return accepted;
}

}  // namespace exportd::testing
