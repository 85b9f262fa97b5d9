#!/usr/bin/env bash
# Installs the Debian 12 packages needed to build, test and demo
# orderflow-exportd. Idempotent: does nothing when all are present.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang-format clang-tidy
  libpqxx-dev libpq-dev nlohmann-json3-dev libspdlog-dev libtomlplusplus-dev
  libcli11-dev libhowardhinnant-date-dev tzdata libsodium-dev libssh-dev libsystemd-dev libhiredis-dev libcurl4-openssl-dev
  prometheus-cpp-dev libcivetweb-dev catch2 clang libclang-rt-14-dev
  postgresql postgresql-contrib openssh-server openssh-client iproute2 procps passwd systemd redis-server
  python3 python3-jsonschema util-linux pandoc man-db dpkg-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run as root to install them" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
