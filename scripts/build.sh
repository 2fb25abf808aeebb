#!/usr/bin/env bash
# Builds the web client into dist/ (release, size-optimised), the server, and the
# client's precompressed .gz/.br files (made by the server binary just built).
# Usage: scripts/build.sh [debug|release]   (the server's profile; default release)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
profile=${1:-release}

printf '\033[1;34m==>\033[0m %s\n' "building the web client (dist/)"
TRUNK_SKIP_VERSION_CHECK=true trunk build --release --cargo-profile wasm-release

printf '\033[1;34m==>\033[0m %s\n' "building the server ($profile)"
if [ "$profile" = release ]; then
  cargo build --release -p server
else
  cargo build -p server
fi

printf '\033[1;34m==>\033[0m %s\n' "compressing the web client (dist/*.gz, dist/*.br)"
"${CARGO_TARGET_DIR:-target}/$profile/tollgate" precompress dist
