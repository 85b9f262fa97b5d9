// libFuzzer target for the ack parser. An input is a file name, a newline,
// then the file's bytes, so names and contents are fuzzed together.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "domain/ack_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace exportd;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const std::string_view file_name = input.substr(0, newline);
  const std::string_view bytes =
      newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);

  const auto name = parse_ack_name(file_name);
  const AckKind kind = name ? name->kind : AckKind::ack;
  const auto parsed = parse_ack_content(kind, bytes);
  // Exactly one of a content and a reason, and a content always agrees with its name.
  if (parsed.content.has_value() == !parsed.problem.empty()) {
    __builtin_trap();
  }
  // A content is always storable: the database's text holds no NUL.
  if (parsed.content && (parsed.content->kind != kind ||
                         (kind == AckKind::ack && parsed.content->erp_order_id.empty()) ||
                         parsed.content->erp_order_id.find('\0') != std::string::npos)) {
    __builtin_trap();
  }
  for (const auto status : kExportStatuses) {
    decide_ack(kind, status);
  }
  return 0;
}
