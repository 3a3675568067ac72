#!/usr/bin/env bash
# Latency of one dependent load over a working set of S MiB (a random
# pointer chase, one pointer per 64-byte line), for S from 1 to 64 MiB.
# Tells where this machine's caches end as the simulator sees them: the
# churn benchmarks' cost per event rises where their state outgrows the
# fast levels (docs/performance.md). Needs a C compiler (gcc or cc).
# Usage: scripts/memory-latency.sh [MiB ...]   (default: 1 2 4 8 16 32 64)
set -euo pipefail
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1 2 4 8 16 32 64)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/chase.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv) {
  size_t bytes = (size_t)atol(argv[1]) << 20, lines = bytes / 64;
  char *buf = aligned_alloc(64, bytes);
  size_t *order = malloc(lines * sizeof *order);
  uint64_t x = 88172645463325252ull; /* xorshift: no libc rand quirks */
  for (size_t i = 0; i < lines; i++) order[i] = i;
  for (size_t i = lines - 1; i > 0; i--) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    size_t j = x % (i + 1), t = order[i]; order[i] = order[j]; order[j] = t;
  }
  memset(buf, 0, bytes);
  for (size_t i = 0; i < lines; i++)
    *(char **)(buf + order[i] * 64) = buf + order[(i + 1) % lines] * 64;
  char *p = buf + order[0] * 64;
  long steps = 20000000;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < steps; i++) p = *(char **)p;
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / steps;
  printf("%4zu MiB  %6.1f ns per dependent load%s\n", bytes >> 20, ns, p ? "" : " ");
  return 0;
}
C
cc=$(command -v gcc || command -v cc)
"$cc" -O2 -o "$dir/chase" "$dir/chase.c"
for s in "${sizes[@]}"; do "$dir/chase" "$s"; done
