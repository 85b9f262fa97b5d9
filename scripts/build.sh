#!/usr/bin/env bash
# Configures and builds into $1 (default build/). Arguments up to `--target`
# go to cmake's configure step, the rest to its build step.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
shift || true
configure=()
while [ $# -gt 0 ] && [ "$1" != --target ]; do
  configure+=("$1")
  shift
done
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${configure[@]}" >/dev/null
cmake --build "$build_dir" -j "$(nproc)" "$@"
