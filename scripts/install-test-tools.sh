#!/usr/bin/env bash
# Installs what the tests need beyond the build: Debian's Chromium and the end-to-end
# suite's npm packages (Playwright, with its own browser download skipped), and makes
# sure Postgres answers.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! [ -x /usr/bin/chromium ]; then
  say "installing Debian's chromium for the browser tests"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# The CLI's TLS test makes its certificates with the openssl command.
if ! command -v openssl >/dev/null; then
  say "installing openssl for the TLS test's certificates"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null
fi

command -v npm >/dev/null || die "npm is missing: install Node.js 20 (apt-get install nodejs npm)"
if ! [ -d end2end/node_modules/@playwright/test ] \
  || ! cmp -s end2end/package-lock.json end2end/node_modules/.package-lock.json; then
  say "installing the end-to-end test packages"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

# The store suite runs every test on Postgres too; start the local server if it sleeps.
postgres_host=${TOLLGATE_TEST_POSTGRES_HOST:-127.0.0.1}
if ! pg_isready -q -h "$postgres_host" -p 5432 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    say "starting the local PostgreSQL server"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  fi
  for _ in $(seq 1 30); do pg_isready -q -h "$postgres_host" -p 5432 && break; sleep 1; done
  pg_isready -q -h "$postgres_host" -p 5432 \
    || die "PostgreSQL does not answer on $postgres_host:5432: start it, or set TOLLGATE_TEST_POSTGRES_URL"
fi
