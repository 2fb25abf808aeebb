#!/usr/bin/env bash
# Installs what building Tollgate needs and is missing: the wasm32 target, Trunk and
# wasm-bindgen-cli, all from crates.io (nothing downloads a prebuilt binary). Each
# step is skipped when the right version is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14 # 0.22 needs rustc 1.96.1; 0.21.14 builds on this toolchain

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

command -v cargo >/dev/null || die "cargo is missing: install Rust with rustup (https://rustup.rs)"
export PATH="$HOME/.cargo/bin:$PATH"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
  say "building Trunk $TRUNK_VERSION from crates.io (about 10 minutes on 2 cores)"
  cargo install --locked trunk --version "$TRUNK_VERSION"
fi

# The CLI must match the wasm-bindgen crate in Cargo.lock exactly; read it from there.
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
[ -n "$bindgen_version" ] || die "no wasm-bindgen in Cargo.lock: run 'cargo generate-lockfile' first"
grep -q "wasm_bindgen = \"$bindgen_version\"" Trunk.toml \
  || die "Trunk.toml pins another wasm-bindgen than Cargo.lock ($bindgen_version): make them equal"
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $bindgen_version" ]; then
  say "building wasm-bindgen-cli $bindgen_version from crates.io (about 3 minutes)"
  # Not --locked: its lock file pins a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$bindgen_version"
fi
