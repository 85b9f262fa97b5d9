// Exact decimal arithmetic on the numeric text Postgres gives us. Money never
// passes through binary floating point.
#pragma once

#include <string>
#include <string_view>

namespace exportd {

// True for text of the form -?[0-9]+(\.[0-9]+)?
bool is_decimal_text(std::string_view text);

// Exact product of two decimal strings. Trailing fractional zeros are trimmed
// down to the larger scale of the two inputs, so "10.0000" * "1.2300" gives
// "12.3000": exact, and in the same scale as the stored columns.
// Throws std::invalid_argument when either input is not decimal text.
std::string multiply_decimal(std::string_view a, std::string_view b);

}  // namespace exportd
