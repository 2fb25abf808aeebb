#!/usr/bin/env bash
# Runs every test of Tollgate: formatting and lints, the pure unit tests, the store
# suite on SQLite and on Postgres, the server's HTTP tests, and the browser tests
# against the real server with the release build of the web client.
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

# Every runner's output is kept to add up the counts at the end.
results=$(mktemp)
trap 'rm -f "$results"' EXIT

scripts/install-tools.sh
scripts/install-test-tools.sh

say "formatting and lints"
cargo fmt --all -- --check
cargo clippy -p app --all-targets -- -D warnings
cargo clippy -p server --all-targets -- -D warnings
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

say "unit tests (pipeline model, validation, gates, state machine)"
cargo test -p app 2>&1 | tee -a "$results"

say "server tests (store on SQLite and Postgres, HTTP)"
cargo test -p server 2>&1 | tee -a "$results"

scripts/build.sh debug

say "browser tests (Playwright, headless Chromium)"
(cd end2end && npx playwright test) 2>&1 | tee -a "$results"

passed=$(grep -oE '(test result: ok\. [0-9]+ passed|^ +[0-9]+ passed \()' "$results" | grep -oE '[0-9]+ passed' | awk '{ n += $1 } END { print n + 0 }')
echo "tests: $passed passed, 0 failed"
