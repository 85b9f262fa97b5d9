// When a failed delivery is tried again, and when it is given up.
#pragma once

#include <chrono>
#include <random>

namespace exportd {

struct RetryPolicy {
  int max_attempts = 8;
  std::chrono::milliseconds initial_backoff{5000};
  std::chrono::milliseconds max_backoff{900000};
};

// Delay before attempt `attempts_made + 1`: initial * 2^(attempts_made-1),
// capped, then "equal jitter" (half fixed, half random) so that many exports
// failing together do not retry in lockstep.
std::chrono::milliseconds retry_delay(const RetryPolicy& policy, int attempts_made,
                                      std::mt19937_64& random);

// True when no attempt is left after `attempts_made` failures.
bool attempts_exhausted(const RetryPolicy& policy, int attempts_made);

}  // namespace exportd
