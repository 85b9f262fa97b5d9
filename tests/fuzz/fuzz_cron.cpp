// libFuzzer target for the cron parser. An input is an expression; one that
// parses must match some minute within 400 years of a starting minute
// derived from it, and that minute must match.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "domain/cron.h"
#include "domain/failure.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace exportd;
  using namespace std::chrono;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto cron = CronExpression::parse(text);
    std::uint64_t spread = 0;
    for (const char c : text) {
      spread = spread * 31 + static_cast<unsigned char>(c);
    }
    const auto from = local_days(year(2000) / 1 / 1) + minutes(spread % (60 * 24 * 366 * 100));
    const auto match = cron.first_match(from, from + days(400 * 366));
    if (!match || *match < from || !cron.matches(*match)) {
      __builtin_trap();
    }
  } catch (const Failure& failure) {
    if (failure.kind() != FailureKind::permanent) {
      __builtin_trap();
    }
  }
  return 0;
}
