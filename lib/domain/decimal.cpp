// Schoolbook multiplication on digit strings: the operands are numeric(18,4),
// so at most a few dozen digits, and exactness matters more than speed.
#include "domain/decimal.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace exportd {

bool is_decimal_text(std::string_view text) {
  if (!text.empty() && text.front() == '-') {
    text.remove_prefix(1);
  }
  const auto dot = text.find('.');
  const auto int_part = text.substr(0, dot);
  const auto all_digits = [](std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!all_digits(int_part)) {
    return false;
  }
  return dot == std::string_view::npos || all_digits(text.substr(dot + 1));
}

namespace {

struct Parsed {
  bool negative = false;
  std::string digits;  // integer and fraction digits, no dot
  size_t scale = 0;    // digits after the dot
};

Parsed parse(std::string_view text) {
  if (!is_decimal_text(text)) {
    throw std::invalid_argument("not a decimal number: '" + std::string(text) + "'");
  }
  Parsed p;
  if (text.front() == '-') {
    p.negative = true;
    text.remove_prefix(1);
  }
  const auto dot = text.find('.');
  p.digits = std::string(text.substr(0, dot));
  if (dot != std::string_view::npos) {
    p.scale = text.size() - dot - 1;
    p.digits += text.substr(dot + 1);
  }
  return p;
}

}  // namespace

std::string multiply_decimal(std::string_view a, std::string_view b) {
  const Parsed x = parse(a);
  const Parsed y = parse(b);
  std::vector<int> product(x.digits.size() + y.digits.size(), 0);
  for (size_t i = x.digits.size(); i-- > 0;) {
    for (size_t j = y.digits.size(); j-- > 0;) {
      product[i + j + 1] += (x.digits[i] - '0') * (y.digits[j] - '0');
    }
  }
  for (size_t k = product.size(); k-- > 1;) {
    product[k - 1] += product[k] / 10;
    product[k] %= 10;
  }
  std::string digits;
  digits.reserve(product.size());
  for (int d : product) {
    digits.push_back(static_cast<char>('0' + d));
  }
  size_t scale = x.scale + y.scale;
  const size_t keep_scale = std::max(x.scale, y.scale);
  while (scale > keep_scale && digits.back() == '0') {
    digits.pop_back();
    --scale;
  }
  std::string int_part = digits.substr(0, digits.size() - scale);
  const auto first_nonzero = int_part.find_first_not_of('0');
  int_part = first_nonzero == std::string::npos ? "0" : int_part.substr(first_nonzero);
  std::string result = int_part;
  if (scale > 0) {
    result += '.';
    result += digits.substr(digits.size() - scale);
  }
  const bool is_zero = result.find_first_not_of("0.") == std::string::npos;
  if ((x.negative != y.negative) && !is_zero) {
    result.insert(result.begin(), '-');
  }
  return result;
}

}  // namespace exportd
