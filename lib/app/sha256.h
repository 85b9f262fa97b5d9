// SHA-256 of delivered bytes (libsodium), as lower-case hex.
#pragma once

#include <string>
#include <string_view>

namespace exportd {

std::string sha256_hex(std::string_view bytes);

}  // namespace exportd
