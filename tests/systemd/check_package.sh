#!/usr/bin/env bash
# Builds the .deb with cpack from the build tree, unpacks it and checks that
# the binary, the unit, sysusers, tmpfiles and migrations are where Debian
# expects them; the packaged unit gets check_unit.sh against the packaged
# binary. Then installs it with dpkg into an empty root (its postinst must
# create the user and directories there), checks that its dependencies
# resolve on this host, and removes it again.
# Skipped (exit 77) without dpkg-deb or systemd-analyze.
set -euo pipefail
build=$1
command -v dpkg-deb >/dev/null && command -v systemd-analyze >/dev/null ||
  { echo "dpkg-deb or systemd-analyze not found: skipped"; exit 77; }

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
(cd "$build" && cpack -G DEB -B "$dir/out" >/dev/null)
deb=$(ls "$dir"/out/*.deb)
[ "$(dpkg-deb --field "$deb" Package)" = orderflow-exportd ]
dpkg-deb -x "$deb" "$dir/root"
for f in usr/bin/orderflow-exportd usr/lib/systemd/system/orderflow-exportd.service \
         usr/lib/sysusers.d/orderflow-exportd.conf usr/lib/tmpfiles.d/orderflow-exportd.conf \
         usr/share/orderflow-exportd/migrations/0001_schema.sql \
         usr/share/doc/orderflow-exportd/exportd.toml; do
  [ -e "$dir/root/$f" ] || { echo "missing from the package: $f"; exit 1; }
done
"$(dirname "$0")/check_unit.sh" "$dir/root/usr/lib/systemd/system/orderflow-exportd.service" \
  "$dir/root/usr/bin/orderflow-exportd"

root="$dir/installed"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/etc"
touch "$root/var/lib/dpkg/status"
# The empty root has none of the libraries: apt-get checks those below.
dpkg_root=(dpkg --root="$root" --force-script-chrootless --force-depends --log=/dev/null)
"${dpkg_root[@]}" -i "$deb" >"$dir/dpkg.log" 2>&1 || { cat "$dir/dpkg.log"; exit 1; }
id_in() { awk -F: '$1 == "orderflow-exportd" { print $3 }' "$root/etc/$1"; }
uid=$(id_in passwd)
gid=$(id_in group)
[ -n "$uid" ] && [ -n "$gid" ] || { echo "postinst did not create the orderflow-exportd user"; exit 1; }
for d in var/lib/orderflow/dropzone etc/orderflow-exportd; do
  [ "$(stat -c %g "$root/$d")" = "$gid" ] ||
    { echo "postinst did not create /$d for the orderflow-exportd group"; exit 1; }
done
[ "$(stat -c %u "$root/var/lib/orderflow/dropzone")" = "$uid" ] ||
  { echo "/var/lib/orderflow/dropzone is not the daemon's"; exit 1; }
if command -v apt-get >/dev/null; then
  apt-get install --simulate "$deb" >"$dir/apt.log" 2>&1 ||
    { cat "$dir/apt.log"; echo "the package's dependencies do not resolve"; exit 1; }
fi
"${dpkg_root[@]}" -r orderflow-exportd >"$dir/dpkg.log" 2>&1 || { cat "$dir/dpkg.log"; exit 1; }
[ ! -e "$root/usr/bin/orderflow-exportd" ] || { echo "dpkg -r left the binary"; exit 1; }
echo "$(basename "$deb"): $(dpkg-deb --contents "$deb" | wc -l) entries, unit verified," \
  "installed and removed"
