#!/usr/bin/env bash
# Runs every test of Tollgate: formatting and lints, the pure unit tests, the store
# suite on SQLite and on Postgres, the server's HTTP tests, and the browser tests
# against the real server with the release build of the web client.
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

scripts/install-tools.sh
scripts/install-test-tools.sh

say "formatting and lints"
cargo fmt --all -- --check
cargo clippy -p app --all-targets -- -D warnings
cargo clippy -p server --all-targets -- -D warnings
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

say "unit tests (pipeline model, validation, gates, state machine)"
cargo test -p app

say "server tests (store on SQLite and Postgres, HTTP)"
cargo test -p server

scripts/build.sh debug

say "browser tests (Playwright, headless Chromium)"
cd end2end
npx playwright test
