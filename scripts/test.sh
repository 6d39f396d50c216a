#!/usr/bin/env bash
# Sets up what is missing, then runs every test: unit, UI (trybuild), expansion snapshots
# (macrotest), in-process interface tests and doc tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo test --workspace --locked --doc
# nextest last: its summary line is the run's verdict.
cargo nextest run --workspace --locked
