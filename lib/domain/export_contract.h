// The contract of orderflow_export_json_v1 (its published JSON Schema),
// checked on every document before delivery: a file the ERP cannot trust is
// never written.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "domain/failure.h"

namespace exportd {

struct ContractViolation {
  std::string field;  // "header.currency", "lines[0].line_no"; empty for the document itself
  std::string rule;   // "must match ^[A-Z]{3}$", "is required", "must be at least 1"

  // Permanent: the same rows give the same document. Its details carry
  // `field` and `rule` into error_json.
  Failure failure() const;
};

// The first rule of the schema the document breaks, or nothing when it keeps
// them all. Patterns have their JSON Schema (ECMA-262) meaning: `$` is the
// end of the text, so "EUR\n" does not match ^[A-Z]{3}$.
std::optional<ContractViolation> check_export_document(const nlohmann::ordered_json& document);

}  // namespace exportd
