#!/usr/bin/env bash
# Instructions per request of the generated router and of the hand-written one
# (`dotdo/benches/router.rs`), counted by valgrind's callgrind: unlike criterion's times, the
# counts repeat exactly from run to run whatever else the machine is doing, so a change of a few
# percent shows. Prints both and their ratio.
#
#   scripts/bench-instructions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }

exe=$(cargo bench -p dotdo --bench router --no-run 2>&1 | grep -o 'target/[^)]*/deps/router-[0-9a-f]*' | tail -1)
[ -x "$exe" ] || { echo "could not find the router benchmark's executable" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

per_request() {
  # Criterion's profiling mode runs the routine in a loop: build the request, serve it (the
  # synchronous part of the entry point, then `block_on` of its future) and drop the response.
  # Everything the loop runs but building the request, over the number of requests, is the count
  # per request, so neither side's work before its first `.await` escapes the count.
  valgrind --tool=callgrind --callgrind-out-file="$out/$1.out" "$exe" --bench --profile-time 2 "get_item/$1" >/dev/null 2>&1
  callgrind_annotate --tree=calling --inclusive=yes "$out/$1.out" 2>/dev/null | tr -d , |
    awk '/\*  .*criterion::bencher::Bencher<M>::iter /{ inside = 1; total = $1; next }
         /^$/ { inside = 0 }
         inside && /> .*router::request / { building = $1; calls = $0; sub(/.*\(/, "", calls); sub(/x\).*/, "", calls) }
         END { if (calls > 0) printf "%.0f", (total - building) / calls }'
}

generated=$(per_request generated)
hand_written=$(per_request hand_written)
[ -n "$generated" ] && [ -n "$hand_written" ] || { echo "callgrind gave no count" >&2; exit 1; }
echo "instructions per GET /items/:id: generated $generated, hand-written $hand_written"
awk -v g="$generated" -v h="$hand_written" 'BEGIN { printf "generated / hand-written: %.3f×\n", g / h }'
