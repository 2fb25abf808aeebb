#!/usr/bin/env bash
# Builds the web client into dist/ (release, size-optimised), the server, and the
# client's precompressed .gz/.br files (made by the server binary just built).
# Usage: scripts/build.sh [debug|release]   (the server's profile; default release)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
profile=${1:-release}

# One bundle per area of the UI (app/src/area.rs): the runs area from index.html into
# dist/, then each other frontend/<area>.html into dist/bundles/<area>/ (after, since
# Trunk empties its output folder, dist/ included).
printf '\033[1;34m==>\033[0m %s\n' "building the web client (dist/)"
export TRUNK_SKIP_VERSION_CHECK=true
trunk build --release --cargo-profile wasm-release
for page in frontend/*.html; do
  area=$(basename "$page" .html)
  [ "$area" = index ] && continue
  printf '\033[1;34m==>\033[0m %s\n' "building the web client's $area bundle (dist/bundles/$area/)"
  trunk build --release --cargo-profile wasm-release \
    --dist "dist/bundles/$area" --public-url "/bundles/$area/" "$page"
done

printf '\033[1;34m==>\033[0m %s\n' "building the server ($profile)"
if [ "$profile" = release ]; then
  cargo build --release -p server
else
  cargo build -p server
fi

printf '\033[1;34m==>\033[0m %s\n' "compressing the web client (dist/*.gz, dist/*.br)"
"${CARGO_TARGET_DIR:-target}/$profile/tollgate" precompress dist
