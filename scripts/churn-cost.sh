#!/usr/bin/env bash
# Cost per event of the churn benchmarks, measured the way
# docs/performance.md quotes it: the three scenarios interleaved, ROUNDS
# rounds (so a noisy stretch of this VM hits every scenario alike), each run
# in a process of its own, then the median and best per scenario and the
# ratios to churn-small. Wall time is what `pacsim run --json` reports.
#
# Usage: scripts/churn-cost.sh [ROUNDS] [extra `pacsim run` flags...]
#   ROUNDS defaults to 5; flags default to --no-persist (pass e.g.
#   `--out /tmp/x` to measure persisted runs; each run gets its own folder).
#   PACSIM=path/to/pacsim compares another build (default: target/release).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
shift || true
flags=("$@")
[ ${#flags[@]} -gt 0 ] || flags=(--no-persist)
pacsim=${PACSIM:-target/release/pacsim}
[ -x "$pacsim" ] || cargo build --release --quiet
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

field() { grep -m1 "\"$1\"" | sed -E 's/.*: *([0-9.]+).*/\1/'; }

for round in $(seq 1 "$rounds"); do
  for s in small large xl; do
    run_flags=("${flags[@]}")
    # A persisted run needs a fresh folder each time.
    if [[ " ${flags[*]} " == *" --out "* ]]; then
      run_flags=(--out "$scratch/$s-$round")
    fi
    json=$("$pacsim" run "scenarios/churn-$s.yaml" "${run_flags[@]}" --json)
    events=$(field events <<<"$json")
    wall=$(field wall_seconds <<<"$json")
    ns=$(awk -v w="$wall" -v e="$events" 'BEGIN { printf "%.1f", w * 1e9 / e }')
    echo "round $round  churn-$s  ${wall} s  ${ns} ns/event" >&2
    echo "$s $ns" >>"$scratch/ns"
    [[ " ${flags[*]} " == *" --out "* ]] && rm -rf "$scratch/$s-$round"
  done
done

median() { grep "^$1 " "$scratch/ns" | awk '{print $2}' | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
best() { grep "^$1 " "$scratch/ns" | awk '{print $2}' | sort -n | head -n1; }
small=$(median small)
printf '%-12s %10s %10s %12s %10s\n' scenario median_ns best_ns events/s vs_small
for s in small large xl; do
  m=$(median "$s")
  awk -v s="churn-$s" -v m="$m" -v b="$(best "$s")" -v base="$small" \
    'BEGIN { printf "%-12s %10.1f %10.1f %11.2fM %9.2fx\n", s, m, b, 1e3 / m, m / base }'
done
