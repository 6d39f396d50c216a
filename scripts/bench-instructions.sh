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
  # Criterion's profiling mode runs the routine in a loop; every request is one `block_on`, so
  # its inclusive count over its number of calls is the count per request.
  valgrind --tool=callgrind --callgrind-out-file="$out/$1.out" "$exe" --bench --profile-time 2 "get_item/$1" >/dev/null 2>&1
  callgrind_annotate --tree=caller --inclusive=yes "$out/$1.out" 2>/dev/null |
    grep -B3 '\*  .*futures_executor::local_pool::block_on' |
    grep 'Bencher<M>::iter' |
    sed -E 's/^ *([0-9,]+) .*\(([0-9,]+)x\).*/\1 \2/' | tr -d , |
    awk '{ printf "%.0f", $1 / $2 }'
}

generated=$(per_request generated)
hand_written=$(per_request hand_written)
[ -n "$generated" ] && [ -n "$hand_written" ] || { echo "callgrind gave no count" >&2; exit 1; }
echo "instructions per GET /items/:id: generated $generated, hand-written $hand_written"
awk -v g="$generated" -v h="$hand_written" 'BEGIN { printf "generated / hand-written: %.3f×\n", g / h }'
