#!/usr/bin/env bash
# Builds the .deb with cpack from the build tree and unpacks it, installs the
# tree with DESTDIR=... cmake --install, and checks in both that the binary,
# both units, sysusers, tmpfiles, migrations, the man page and the docs are
# where Debian expects them; that Depends was computed from the binary; and
# that the packaged units pass check_unit.sh with the packaged binary and man
# page. Then installs the package with dpkg into an empty root (its postinst
# must create the user and directories there), checks that its dependencies
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
DESTDIR="$dir/destdir" cmake --install "$build" --prefix /usr >/dev/null
units=usr/lib/systemd/system
docs=usr/share/doc/orderflow-exportd
for f in usr/bin/orderflow-exportd $units/orderflow-exportd.service $units/orderflow-exportd@.service \
         usr/lib/sysusers.d/orderflow-exportd.conf usr/lib/tmpfiles.d/orderflow-exportd.conf \
         usr/share/orderflow-exportd/migrations/0001_schema.sql \
         usr/share/man/man8/orderflow-exportd.8 $docs/exportd.toml $docs/README.md \
         $docs/erp-integration.md $docs/configuration.md $docs/operations.md \
         $docs/architecture.md $docs/orderflow_export_json_v1.schema.json; do
  [ -e "$dir/root/$f" ] || { echo "missing from the package: $f"; exit 1; }
  [ -e "$dir/destdir/$f" ] || { echo "missing from DESTDIR=... cmake --install: $f"; exit 1; }
done
depends=$(dpkg-deb --field "$deb" Depends)
for library in libpqxx libssh libsodium libsystemd0 libdate-tz3 systemd tzdata; do
  grep -q "$library" <<<"$depends" || { echo "Depends lacks $library: $depends"; exit 1; }
done
for unit in orderflow-exportd.service orderflow-exportd@.service; do
  "$(dirname "$0")/check_unit.sh" "$dir/root/$units/$unit" "$dir/root/usr/bin/orderflow-exportd" \
    "$dir/root/usr/share/man"
done

root="$dir/installed"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/etc"
touch "$root/var/lib/dpkg/status"
# The empty root has none of the libraries: apt-get checks those below.
dpkg_root=(dpkg --root="$root" --force-script-chrootless --force-depends --log=/dev/null)
"${dpkg_root[@]}" -i "$deb" >"$dir/dpkg.log" 2>&1 || { cat "$dir/dpkg.log"; exit 1; }
MANPATH="$root/usr/share/man" man 8 orderflow-exportd 2>/dev/null | grep -q "EXIT STATUS" ||
  { echo "man 8 orderflow-exportd does not find the installed page"; exit 1; }
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
