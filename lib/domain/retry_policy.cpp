// Exponential backoff with equal jitter, capped.
#include "domain/retry_policy.h"

#include <algorithm>

namespace exportd {

std::chrono::milliseconds retry_delay(const RetryPolicy& policy, int attempts_made,
                                      std::mt19937_64& random) {
  const int doublings = std::clamp(attempts_made - 1, 0, 40);
  const double uncapped = static_cast<double>(policy.initial_backoff.count()) *
                          static_cast<double>(1ULL << std::min(doublings, 40));
  const auto capped =
      static_cast<long long>(std::min(uncapped, static_cast<double>(policy.max_backoff.count())));
  const long long half = capped / 2;
  std::uniform_int_distribution<long long> jitter(0, capped - half);
  return std::chrono::milliseconds(half + jitter(random));
}

bool attempts_exhausted(const RetryPolicy& policy, int attempts_made) {
  return attempts_made >= policy.max_attempts;
}

}  // namespace exportd
