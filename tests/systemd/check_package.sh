#!/usr/bin/env bash
# Builds the .deb with cpack from the build tree, unpacks it and checks that
# the binary, the unit, sysusers, tmpfiles and migrations are where Debian
# expects them; the packaged unit gets check_unit.sh against the packaged
# binary.
# Skipped (exit 77) without dpkg-deb or systemd-analyze.
set -euo pipefail
build=$1
command -v dpkg-deb >/dev/null && command -v systemd-analyze >/dev/null ||
  { echo "dpkg-deb or systemd-analyze not found: skipped"; exit 77; }

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
(cd "$build" && cpack -G DEB -B "$dir/out" >/dev/null)
deb=$(ls "$dir"/out/*.deb)
dpkg-deb --info "$deb" | grep -q "Package: orderflow-exportd"
dpkg-deb -x "$deb" "$dir/root"
for f in usr/bin/orderflow-exportd usr/lib/systemd/system/orderflow-exportd.service \
         usr/lib/sysusers.d/orderflow-exportd.conf usr/lib/tmpfiles.d/orderflow-exportd.conf \
         usr/share/orderflow-exportd/migrations/0001_schema.sql \
         usr/share/doc/orderflow-exportd/exportd.toml; do
  [ -e "$dir/root/$f" ] || { echo "missing from the package: $f"; exit 1; }
done
"$(dirname "$0")/check_unit.sh" "$dir/root/usr/lib/systemd/system/orderflow-exportd.service" \
  "$dir/root/usr/bin/orderflow-exportd"
echo "$(basename "$deb"): $(dpkg-deb --contents "$deb" | wc -l) entries, unit verified"
