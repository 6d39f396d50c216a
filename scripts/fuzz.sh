#!/usr/bin/env bash
# The fuzz campaign over the decoders that take untrusted bytes (tests/fuzz): each target runs
# CASES cases (default 10,000,000) in an optimised build with debug assertions and overflow
# checks on, and the script prints the cases, the time and the outcome of each. The test
# command runs the same targets with a small budget (2,000 cases each).
#   scripts/fuzz.sh [CASES]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
source scripts/env.sh

CASES="${1:-10000000}"
TARGETS=(
  http_routes_answer_every_request
  json_rpc_answers_every_payload
  mcp_answers_every_message
  queue_messages_always_get_an_outcome
  json_values_decode_as_serde_path_to_error_decodes_them
  jwts_verify_only_as_signed
  credentials_parse_without_panics_and_never_verify_unsigned
)
cargo test --profile fuzz -p dotdo-fuzz --test decoders --no-run
printf '%-60s %12s %10s %s\n' target cases seconds outcome
failed=0
for target in "${TARGETS[@]}"; do
  start=$SECONDS
  if DOTDO_FUZZ_CASES="$CASES" cargo test --profile fuzz -q -p dotdo-fuzz --test decoders -- --exact "$target" >"target/fuzz-$target.log" 2>&1; then
    outcome="0 panics, 0 failures"
  else
    outcome="FAILED: see target/fuzz-$target.log"
    failed=1
  fi
  printf '%-60s %12s %10s %s\n' "$target" "$CASES" "$((SECONDS - start))" "$outcome"
done
exit "$failed"
