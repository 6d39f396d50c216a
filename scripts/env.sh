# Sourced by the scripts: where the wasm toolchain is, for worker-build and wrangler.
# worker-build would download wasm-bindgen, esbuild and wasm-opt; these point it at the ones
# installed from the registries by scripts/setup.sh instead.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$root/node_modules/.bin:$HOME/.cargo/bin:$PATH"   # node_modules/.bin/node is Node 22 (wrangler needs it)
export WASM_BINDGEN_BIN="$HOME/.cargo/bin/wasm-bindgen"
export ESBUILD_BIN="$root/node_modules/.bin/esbuild"
export WASM_OPT_BIN="$root/node_modules/.bin/wasm-opt"
# One target directory for every build, native and wasm, so dependencies build once.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
# No telemetry prompts or update checks from wrangler in scripts and CI.
export WRANGLER_SEND_METRICS=false
export CI="${CI:-}"
unset root
