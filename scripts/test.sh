#!/usr/bin/env bash
# Runs every test: installs the Debian packages, builds once with ASan and
# UBSan, and runs the unit, integration (real PostgreSQL started by the
# harness) and end-to-end suites through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build-sanitize -DEXPORTD_SANITIZE=ON
cd build-sanitize
ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(pwd)/../tests/lsan.supp UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --output-on-failure --timeout 600
