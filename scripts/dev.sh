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
# The workers of the platform, the served one (the gateway) first.
CONFIGS=(
  services/gateway/wrangler.toml
  services/auth/wrangler.toml
  services/db/wrangler.toml
  services/queue/wrangler.toml
  services/schedule/wrangler.toml
  services/mcp/wrangler.toml
  services/webhooks/wrangler.toml
  services/email/wrangler.toml
)
# D1 databases to migrate before starting: "<database> <config>".
MIGRATIONS=(
  "dotdo-auth services/auth/wrangler.toml"
  "dotdo-db services/db/wrangler.toml"
  "dotdo-queue services/queue/wrangler.toml"
  "dotdo-schedule services/schedule/wrangler.toml"
  "dotdo-webhooks services/webhooks/wrangler.toml"
  "dotdo-email services/email/wrangler.toml"
)

for migration in "${MIGRATIONS[@]}"; do
  read -r database config <<<"$migration"
  wrangler d1 migrations apply "$database" --local -c "$config" --persist-to "$STATE"
done

cat <<TXT

  The platform on http://127.0.0.1:$PORT (first start builds the wasm, a few minutes):
    gateway       http://127.0.0.1:$PORT/health
    db            http://127.0.0.1:$PORT/db/things/<ns>/<id>     MCP: http://127.0.0.1:$PORT/db/mcp
    auth          http://127.0.0.1:$PORT/auth/_keys               MCP: http://127.0.0.1:$PORT/auth/mcp
    queue         http://127.0.0.1:$PORT/queue/jobs               MCP: http://127.0.0.1:$PORT/queue/mcp
    schedule      http://127.0.0.1:$PORT/schedule/schedules       MCP: http://127.0.0.1:$PORT/schedule/mcp
    webhooks      http://127.0.0.1:$PORT/webhooks/in/<provider>  MCP: http://127.0.0.1:$PORT/webhooks/mcp
    email         http://127.0.0.1:$PORT/email/send               MCP: http://127.0.0.1:$PORT/email/mcp
    every tool    MCP: http://127.0.0.1:$PORT/mcp   (catalog: http://127.0.0.1:$PORT/.well-known/mcp/catalog.json)
  Admin key (development only): sk_test_bootstrap_admin_dev_only_000000000
    curl -H "Authorization: Bearer sk_test_bootstrap_admin_dev_only_000000000" \
         -H "content-type: application/json" -d '{"owner":"me","role":"user"}' http://127.0.0.1:$PORT/auth/_keys
  Ctrl-C stops it.

TXT
args=()
for config in "${CONFIGS[@]}"; do args+=(-c "$config"); done
exec wrangler dev "${args[@]}" --ip 127.0.0.1 --port "$PORT" --persist-to "$STATE" --test-scheduled
