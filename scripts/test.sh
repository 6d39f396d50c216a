#!/usr/bin/env bash
# Sets up what is missing, then runs every test:
#   1. doc tests;
#   2. end to end: the workers under `wrangler dev` (workerd) with local D1 and queues, driven by
#      fetch, the MCP TypeScript SDK, a second worker and a real queue; then `wrangler deploy
#      --dry-run` for every worker and scripts/deploy.sh --dry-run for staging and production, and
#      the release wasm sizes; each cargo-generate template
#      generated into services/, tested, run under `wrangler dev` and dry-run deployed; each
#      service's OpenAPI document checked by openapi-spec-validator and exercised by schemathesis;
#   3. the workerd benchmark in its short mode (bench/workerd/run.mjs --quick): dotdo, Hono and
#      hand-written workers-rs give the same answers, every timed request its expected status,
#      and the figures print (never asserted: the machine is shared); then the wasm each route's
#      first request compiles (bench/workerd/compiled.mjs);
#   4. formatting (cargo fmt --check) and lints (clippy, warnings denied);
#   5. unit, UI (trybuild), expansion snapshot (macrotest), policy (every wrangler.toml), fuzz
#      (the decoders, 2,000 cases a target) and in-process interface tests, with nextest, whose
#      summary line closes the run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
# trybuild and macrotest build their own projects, which do not read this workspace's profiles:
# the same debug-info setting for them, and no incremental caches a one-off run never reuses.
export CARGO_PROFILE_DEV_DEBUG=line-tables-only
if [ -n "$CI" ]; then export CARGO_INCREMENTAL=0; fi
# A full disk fails a build in whatever test is building: the log says how much room there was.
disk() { printf '\033[1m[test]\033[0m disk available where the builds go: %s\n' "$(df -h --output=avail . | tail -1 | tr -d ' ')"; }
disk

cargo test --workspace --locked --doc
# A hung test fails after 20 minutes instead of holding CI until its limit.
node --test --test-concurrency=1 --test-timeout=1200000 --test-reporter=spec 'tests/e2e/*.test.mjs'
node bench/workerd/run.mjs --quick
node bench/workerd/compiled.mjs
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
disk
cargo nextest run --workspace --locked
