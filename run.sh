#!/usr/bin/env bash
# Builds Tollgate and starts it on http://127.0.0.1:3000 with the embedded SQLite
# store in ./tollgate-data and the sample review-workflow pipeline ready to deploy.
# Extra arguments go to the server (see `target/release/tollgate --help`).
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-tools.sh
scripts/build.sh release
# How to sign in: the first start writes the admin password to the data directory.
bin="${CARGO_TARGET_DIR:-target}/release/tollgate"
data_dir=${TOLLGATE_DATA_DIR:-tollgate-data}
password_file="$data_dir/initial-admin-password"
say_sign_in() {
  printf '\033[1;32m==>\033[0m sign in as admin (at http://127.0.0.1:3000 unless --bind says otherwise), %s\n' "$1"
}
if [ -n "${TOLLGATE_ADMIN_PASSWORD:-}" ]; then
  say_sign_in "with the password in TOLLGATE_ADMIN_PASSWORD"
elif [ -f "$password_file" ]; then
  say_sign_in "password: $(cat "$password_file") (from $password_file)"
else
  # First start: wait for the server to write the password, show it, then stay attached.
  "$bin" --pipeline server/pipelines/review-workflow.yaml "$@" &
  server=$!
  trap 'kill -TERM "$server" 2>/dev/null' INT TERM
  for _ in $(seq 1 100); do
    [ -f "$password_file" ] || ! kill -0 "$server" 2>/dev/null && break
    sleep 0.1
  done
  [ -f "$password_file" ] && say_sign_in "password: $(cat "$password_file") (from $password_file)"
  wait "$server"
  exit $?
fi
exec "$bin" --pipeline server/pipelines/review-workflow.yaml "$@"
