// Values passed to Postgres as text: array literals and hex-encoded bytes
// (decode(..., 'hex') / encode(..., 'hex') on the SQL side).
#pragma once

#include <string>
#include <vector>

namespace exportd {

// A Postgres array literal of the items, each quoted and escaped.
std::string pg_array(const std::vector<std::string>& items);

std::string hex_encode(const std::string& bytes);
std::string hex_decode(const std::string& hex);

}  // namespace exportd
