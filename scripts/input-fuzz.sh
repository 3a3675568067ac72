#!/usr/bin/env bash
# A long input-fuzzing campaign: mutated scenario files, run as `pacsim run`
# would, in worker processes that a crash, an abort or a hang cannot hide.
#
#   scripts/input-fuzz.sh                  # cases 0..999999, 2 workers
#   scripts/input-fuzz.sh --cases 0..9999  # any `pacsim fuzz-inputs` flag
#
# Crashes, hangs and overshoots of the memory budget are kept with their
# reproducer in runs/input-fuzz/ (or --out), with summary.txt; the exit
# code is 1 if there was any. Keep a new crash as a regression case in
# tests/fixtures/fuzz-regressions/ (first line: `# expect exit N: why`).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
args=("$@")
if [[ ! " ${args[*]-} " =~ " --cases " ]]; then
  args+=(--cases 0..999999)
fi
exec ./target/release/pacsim fuzz-inputs --corpus scenarios "${args[@]}"
