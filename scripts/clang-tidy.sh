#!/usr/bin/env bash
# Runs clang-tidy (the checks in .clang-tidy) over every source the daemon and
# its tools are built from: lib/, daemon/, bench/ and the test support library
# (the headers they include, fakes among them, are checked with them), with
# the compile commands of build directory $1 (default build-tidy, configured
# here when new), and fails on any finding. The test cases themselves are left
# out: Catch2's macros make each of them slow to analyse, for little gain.
# It takes minutes on two cores, so scripts/test.sh runs it once instead of as
# a test in every build directory.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build-tidy}
for tool in run-clang-tidy clang-tidy; do
  if ! command -v "$tool" >/dev/null; then
    echo "clang-tidy: '$tool' not found (apt-get install clang-tidy)" >&2
    exit 1
  fi
done
# Configuring is enough: clang-tidy reads compile_commands.json and the
# generated headers and include roots, and needs no object files.
if [ -f "$build_dir/CMakeCache.txt" ]; then
  cmake "$build_dir" >/dev/null
else
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Debug -DEXPORTD_MANPAGE=OFF >/dev/null
fi
log="$build_dir/clang-tidy.log"
status=0
run-clang-tidy -p "$build_dir" -j "$(nproc)" -quiet "^$(pwd)/(lib|daemon|bench|tests/support)/" 2>&1 |
  sed 's/\x1b\[[0-9;]*m//g' >"$log" || status=$?
findings=$(grep -cE ': (warning|error): ' "$log" || true)
if [ "$status" -ne 0 ] || [ "$findings" -ne 0 ]; then
  noise='^(clang-tidy|[0-9]+ warnings? (and [0-9]+ errors? )?generated|Suppressed|Use -header-filter)'
  grep -vE "$noise" "$log" >&2
  echo "clang-tidy: $findings findings (full output in $log)" >&2
  exit 1
fi
echo "clang-tidy: no findings"
