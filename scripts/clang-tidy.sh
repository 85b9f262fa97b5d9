#!/usr/bin/env bash
# Runs clang-tidy (the checks in .clang-tidy) over every source the daemon and
# its tools are built from: lib/, daemon/, bench/ and the test support library
# (the headers they include, fakes among them, are checked with them), with
# the compile commands of build directory $1 (default build-tidy, configured
# here when new), and fails on any finding. The test cases themselves are left
# out: Catch2's macros make each of them slow to analyse, for little gain.
# It reads the unity translation units of a unity build (each a few of our
# sources included one after another), so the heavy headers are analysed once
# per batch, not once per file: on two cores that is about a minute and a
# half instead of nearly four. Our sources are then included files, reported
# through the header filter; the check against including a .cpp file is off
# for exactly that reason. scripts/test.sh runs it once instead of as a test
# in every build directory.
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
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Debug -DEXPORTD_MANPAGE=OFF \
    -DCMAKE_UNITY_BUILD=ON >/dev/null
fi
log="$build_dir/clang-tidy.log"
status=0
# Sources a target keeps out of its batches are matched by their own path.
# The configuration is passed explicitly: clang-tidy would look for it beside
# the translation unit, which lives in the build directory.
units="^($(pwd)/(lib|daemon|bench|tests/support)/|$(realpath -m "$build_dir")/(tests/support/)?CMakeFiles/[^/]+/Unity/)"
run-clang-tidy -p "$build_dir" -j "$(nproc)" -quiet -config="$(cat .clang-tidy)" \
  -checks=-bugprone-suspicious-include "$units" 2>&1 |
  sed 's/\x1b\[[0-9;]*m//g' >"$log" || status=$?
findings=$(grep -cE ': (warning|error): ' "$log" || true)
if [ "$status" -ne 0 ] || [ "$findings" -ne 0 ]; then
  noise='^(clang-tidy|[0-9]+ warnings? (and [0-9]+ errors? )?generated|Suppressed|Use -header-filter)'
  grep -vE "$noise" "$log" >&2
  echo "clang-tidy: $findings findings (full output in $log)" >&2
  exit 1
fi
echo "clang-tidy: no findings"
