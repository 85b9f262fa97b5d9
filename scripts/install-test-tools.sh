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
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm >/dev/null
fi
echo "install-test-tools: installing s3rver@${s3rver_version} into .test-tools/"
npm install --prefix .test-tools "s3rver@${s3rver_version}" --no-audit --no-fund --loglevel=error \
  >/dev/null
