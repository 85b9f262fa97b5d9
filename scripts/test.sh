#!/usr/bin/env bash
# Runs every test: installs the Debian packages; builds once as users do
# (Release, -O3) with warnings as errors, since some warnings only appear
# when the optimizer runs; runs clang-tidy once (scripts/clang-tidy.sh),
# failing on any finding; builds with ASan and UBSan and runs the unit, integration
# (real PostgreSQL, sshd, redis-server and the S3 server s3rver, installed
# pinned by scripts/install-test-tools.sh, started by the harness) and
# end-to-end suites through ctest; builds the unit and integration tests
# with ThreadSanitizer and runs them; then fuzzes the ack and cron parsers.
#
# Two cores must do all of it well inside a quarter of an hour, so the
# builds are unity builds (each target's sources compiled a few at a time in
# one translation unit: the heavy headers are parsed once per batch, not once
# per file), and the ThreadSanitizer build runs while the ASan suites,
# which mostly wait on their servers, use little CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/install-test-tools.sh
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
unity=(-DCMAKE_UNITY_BUILD=ON)

echo "== Release build, -Werror (at ${SECONDS} s)"
bash scripts/build.sh build-release -DCMAKE_BUILD_TYPE=Release -DEXPORTD_WERROR=ON \
  -DEXPORTD_TESTS=OFF "${unity[@]}"

echo "== clang-tidy (at ${SECONDS} s)"
bash scripts/clang-tidy.sh build-tidy

# -O1 -g1: what the sanitizers recommend, with line tables for their reports,
# and builds that stay well inside the time CI allows on two cores. The
# benchmark is built (and checked) by the Release build; no suite runs it.
sanitizer_flags=(-DEXPORTD_WERROR=ON -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG"
  -DEXPORTD_BENCH=OFF "${unity[@]}")

echo "== ASan and UBSan: every suite (at ${SECONDS} s)"
bash scripts/build.sh build-sanitize -DEXPORTD_SANITIZE=address "${sanitizer_flags[@]}"
echo "== ThreadSanitizer build, beside the ASan suites (at ${SECONDS} s)"
bash scripts/build.sh build-tsan -DEXPORTD_SANITIZE=thread "${sanitizer_flags[@]}" \
  --target unit_tests integration_tests >build-tsan.log 2>&1 &
tsan_build=$!
(cd build-sanitize &&
  ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(pwd)/../tests/lsan.supp:print_suppressions=0 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ctest --output-on-failure --timeout 600)

echo "== ThreadSanitizer: unit and integration suites (at ${SECONDS} s)"
if ! wait "$tsan_build"; then
  tail -n 60 build-tsan.log
  exit 1
fi
(cd build-tsan &&
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  ctest --output-on-failure --timeout 600 -R '^(unit|integration)$')

# Short fuzz runs of the ack parser and the cron parser (libFuzzer needs
# clang), each from its seed corpus; new inputs stay in the build tree.
echo "== libFuzzer: the ack and cron parsers (at ${SECONDS} s)"
CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEXPORTD_TESTS=OFF \
  -DEXPORTD_MANPAGE=OFF -DEXPORTD_FUZZ=ON >/dev/null
cmake --build build-fuzz --target fuzz_ack_parser fuzz_cron -j "$(nproc)" >/dev/null
mkdir -p build-fuzz/corpus build-fuzz/cron_corpus
./build-fuzz/fuzz_ack_parser -max_total_time=15 -print_final_stats=1 build-fuzz/corpus \
  tests/fuzz/corpus 2>&1 | tail -n 12
./build-fuzz/fuzz_cron -max_total_time=10 -print_final_stats=1 build-fuzz/cron_corpus \
  tests/fuzz/cron_corpus 2>&1 | tail -n 12
echo "== done in ${SECONDS} s"
