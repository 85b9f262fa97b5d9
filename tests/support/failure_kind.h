// The FailureKind a call throws, for tests of classification.
#pragma once

#include <catch2/catch.hpp>
#include <functional>

#include "domain/failure.h"

namespace exportd::testing {

inline FailureKind kind_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Failure& e) {
    return e.kind();
  }
  FAIL("no Failure thrown");
  return FailureKind::transient;
}

}  // namespace exportd::testing
