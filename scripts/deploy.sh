#!/usr/bin/env bash
# Deploys the platform's services to staging or production, backends before the gateway:
#   scripts/deploy.sh [--env staging|production] [--dry-run] [--skip-build]
#                     [--only SERVICE[,SERVICE…]] [--namespace NAME]
# It checks every service's configuration and secrets before anything changes, builds each
# service once, applies its D1 migrations (--remote) and deploys it. --dry-run runs every step
# that needs no Cloudflare account (CI runs it for both environments). docs/deploy.md takes a
# fresh account to a deployed platform.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/wrangler ] || ! command -v worker-build >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/worker-build" ]; then
  scripts/setup.sh
fi
source scripts/env.sh
exec node scripts/deploy.mjs "$@"
