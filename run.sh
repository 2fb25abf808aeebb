#!/usr/bin/env bash
# Builds Tollgate and starts it on http://127.0.0.1:3000 with the embedded SQLite
# store in ./tollgate-data and the sample review-workflow pipeline ready to deploy.
# Extra arguments go to the server (see `target/release/tollgate --help`).
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-tools.sh
scripts/build.sh release
# How to sign in: the first start writes the admin password to the data directory.
data_dir=${TOLLGATE_DATA_DIR:-tollgate-data}
password_file="$data_dir/initial-admin-password"
if [ -n "${TOLLGATE_ADMIN_PASSWORD:-}" ]; then
  printf '\033[1;32m==>\033[0m sign in at http://127.0.0.1:3000 as admin with TOLLGATE_ADMIN_PASSWORD\n'
elif [ -f "$password_file" ]; then
  printf '\033[1;32m==>\033[0m sign in at http://127.0.0.1:3000 as admin, password: %s\n' "$(cat "$password_file")"
else
  printf '\033[1;32m==>\033[0m sign in at http://127.0.0.1:3000 as admin; the password is written to %s at first start (cat it)\n' "$password_file"
fi
exec "${CARGO_TARGET_DIR:-target}/release/tollgate" --pipeline server/pipelines/review-workflow.yaml "$@"
