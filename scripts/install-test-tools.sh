#!/usr/bin/env bash
# Installs the test tools that are not Debian packages, pinned, into
# .test-tools/ (ignored by git): s3rver, the S3-compatible server the archive
# tests start on loopback. Idempotent: does nothing when the pinned version is
# there.
set -euo pipefail
cd "$(dirname "$0")/.."
s3rver_version=3.7.1
installed=.test-tools/node_modules/s3rver/package.json
if [ -f "$installed" ] && grep -q "\"version\": \"${s3rver_version}\"" "$installed"; then
  exit 0
fi
for tool in node npm; do
  if ! command -v "$tool" >/dev/null; then
    echo "install-test-tools: '$tool' is missing: apt-get install nodejs npm" >&2
    exit 1
  fi
done
echo "install-test-tools: installing s3rver@${s3rver_version} into .test-tools/"
npm install --prefix .test-tools "s3rver@${s3rver_version}" --no-audit --no-fund --loglevel=error \
  >/dev/null
