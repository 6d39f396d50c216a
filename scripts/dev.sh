#!/usr/bin/env bash
# Sets up what is missing, then runs the platform's workers locally under `wrangler dev`
# (workerd), with local D1, KV and Queues as their storage (kept in .wrangler/state).
#
# The first worker is served on the port; the others are reached from it through service
# bindings (and from other `wrangler dev` sessions through wrangler's dev registry).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh

PORT="${PORT:-8787}"
STATE=.wrangler/state
# The workers of the platform, the served one first.
CONFIGS=(
  tests/e2e/fixture/wrangler.toml
  tests/e2e/caller/wrangler.toml
)
# D1 databases to migrate before starting: "<database> <config>".
MIGRATIONS=(
  "dotdo-e2e tests/e2e/fixture/wrangler.toml"
)

for migration in "${MIGRATIONS[@]}"; do
  read -r database config <<<"$migration"
  wrangler d1 migrations apply "$database" --local -c "$config" --persist-to "$STATE"
done

cat <<TXT

  Starting on http://127.0.0.1:$PORT (first start builds the wasm, a few minutes):
    HTTP routes   http://127.0.0.1:$PORT/items/<id>
    JSON-RPC      POST http://127.0.0.1:$PORT/_rpc
    MCP           http://127.0.0.1:$PORT/mcp   (point an MCP client here)
    cron          http://127.0.0.1:$PORT/__scheduled?cron=*/5+*+*+*+*
  Ctrl-C stops it.

TXT
args=()
for config in "${CONFIGS[@]}"; do args+=(-c "$config"); done
exec wrangler dev "${args[@]}" --ip 127.0.0.1 --port "$PORT" --persist-to "$STATE" --test-scheduled
