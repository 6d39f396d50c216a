#!/usr/bin/env bash
# Installs what the project needs and is missing; a second run takes seconds.
# Everything comes from the package registries (crates.io, npm), nothing from elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."

# Versions that must match something else are pinned here.
CARGO_EXPAND_VERSION=1.0.127   # expansion snapshots (macrotest) are formatted by this version
CARGO_NEXTEST_VERSION=0.9      # the test runner

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# `cargo install` only when the binary is missing or at another version.
cargo_install() {
  local crate=$1 version=$2 binary=$3
  if command -v "$binary" >/dev/null 2>&1 && "$binary" --version 2>/dev/null | grep -qF "$version"; then
    return
  fi
  say "installing $crate $version"
  cargo install "$crate" --version "=$version" --locked --quiet
}

cargo_install cargo-expand "$CARGO_EXPAND_VERSION" cargo-expand
if ! cargo nextest --version >/dev/null 2>&1; then
  say "installing cargo-nextest $CARGO_NEXTEST_VERSION"
  cargo install cargo-nextest --version "^$CARGO_NEXTEST_VERSION" --locked --quiet
fi
say "ready"
