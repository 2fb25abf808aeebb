#!/usr/bin/env bash
# What the Dockerfile does, without Docker (no engine runs on the build machines):
# install the tools, build the release client and server with the same scripts, then
# start the release binary the way the image does (Postgres, JSON logs, the image's
# environment) and check /healthz and /readyz. Run by CI after the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# The Dockerfile must keep calling these scripts; if it stops, this check is moot.
grep -q 'scripts/install-tools.sh' Dockerfile || die "the Dockerfile no longer runs scripts/install-tools.sh"
grep -q 'scripts/build.sh release' Dockerfile || die "the Dockerfile no longer runs scripts/build.sh release"

say "the image's build steps"
scripts/install-tools.sh
scripts/build.sh release

say "the image's start, against a scratch Postgres database"
database="tollgate_image_check_$$"
psql -q -h 127.0.0.1 -U postgres -d postgres -c "create database $database" >/dev/null
data=$(mktemp -d)
port=3217
cleanup() {
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null || true
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "drop database if exists $database with (force)" >/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT
DATABASE_URL="postgres://postgres@127.0.0.1:5432/$database" \
TOLLGATE_BIND="127.0.0.1:$port" TOLLGATE_DATA_DIR="$data" TOLLGATE_DIST=dist TOLLGATE_LOG_FORMAT=json \
  "${CARGO_TARGET_DIR:-target}/release/tollgate" --pipeline server/pipelines/review-workflow.yaml \
  >"$data/log" 2>&1 &
server=$!
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "http://127.0.0.1:$port/healthz" | grep -q '"ok"' || { cat "$data/log"; die "/healthz did not answer ok"; }
curl -fsS "http://127.0.0.1:$port/readyz" | grep -q '"ready"' || { cat "$data/log"; die "/readyz did not answer ready"; }
curl -fsS "http://127.0.0.1:$port/" | grep -q '<script' || die "the web client is not served"
# A first start signs in as the image tells people to: admin, with the generated password.
password_file="$data/initial-admin-password"
[ -f "$password_file" ] || { cat "$data/log"; die "the first start wrote no $password_file"; }
[ "$(stat -c %a "$password_file")" = 600 ] || die "$password_file is readable by others"
api="http://127.0.0.1:$port/api"
anonymous=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'content-type: application/json' -d '{}' "$api/list_runs")
[ "$anonymous" = 401 ] || die "the API answered $anonymous without sign-in (expected 401)"
login=$(printf '{"username": "admin", "password": "%s"}' "$(cat "$password_file")")
curl -fsS -H 'content-type: application/json' -d "$login" "$api/login" | grep -q '"username":"admin"' \
  || die "cannot sign in as admin with the password in $password_file"
kill -TERM "$server"
wait "$server" || die "the server did not stop cleanly on SIGTERM"
server=
head -n 1 "$data/log" | grep -q '^{' || die "the logs are not JSON"
echo "image steps: built, started on Postgres, healthy, ready, signed in, stopped cleanly"
