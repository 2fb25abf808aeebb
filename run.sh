#!/usr/bin/env bash
# Builds Tollgate and starts it on http://127.0.0.1:3000 with the embedded SQLite
# store in ./tollgate-data and the sample review-workflow pipeline ready to deploy.
# Extra arguments go to the server (see `target/release/tollgate --help`).
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-tools.sh
scripts/build.sh release
exec "${CARGO_TARGET_DIR:-target}/release/tollgate" --pipeline server/pipelines/review-workflow.yaml "$@"
