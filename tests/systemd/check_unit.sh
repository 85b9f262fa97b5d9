#!/usr/bin/env bash
# Checks a service unit as systemd would: `systemd-analyze verify` on a copy
# whose ExecStart is the built binary (verify wants it to exist) and with
# MANPATH at the built man page (verify checks the unit's Documentation=),
# and the sandbox's exposure score from `systemd-analyze security`, which must
# stay at or below 1.5. A template unit is verified as an instance of itself.
# Skipped (exit 77) where systemd-analyze is missing.
set -euo pipefail
unit=$1
binary=$2
man_dir=$3
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not found: skipped"; exit 77; }

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
copy="$dir/$(basename "$unit")"
sed "s|/usr/bin/orderflow-exportd|$binary|" "$unit" > "$copy"
if ! out=$(MANPATH="$man_dir" systemd-analyze verify "$copy" 2>&1) || [ -n "$out" ]; then
  echo "systemd-analyze verify complained:"; echo "$out"; exit 1
fi
systemd-analyze security --offline=true --threshold=15 "$unit" | tail -1
