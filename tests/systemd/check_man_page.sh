#!/usr/bin/env bash
# Renders the built orderflow-exportd(8) with man -l and checks that it names
# every subcommand, every exit status and the environment it reads.
# Skipped (exit 77) where man is missing.
set -euo pipefail
page=$1
command -v man >/dev/null || { echo "man not found: skipped"; exit 77; }
text=$(MANWIDTH=100 man -l "$page" 2>&1) || { echo "man -l failed:"; echo "$text"; exit 1; }
missing=()
for word in run migrate check-config "connection set" "connection test" status approve push retry \
            --config --json --password-stdin --actor --idempotency-key --version --help \
            EXPORTD_DATABASE_URL EXPORTD_REDIS_URL CREDENTIALS_DIRECTORY SIGHUP SIGTERM \
            "EXIT STATUS" /etc/orderflow-exportd/exportd.toml; do
  grep -qF -- "$word" <<<"$text" || missing+=("$word")
done
for code in 0 1 2 3; do
  grep -qE "^ +$code( |$)" <<<"$text" || missing+=("exit status $code")
done
if [ ${#missing[@]} -gt 0 ]; then
  printf 'the man page does not mention: %s\n' "${missing[@]}"; exit 1
fi
echo "$(wc -l <<<"$text") lines rendered"
