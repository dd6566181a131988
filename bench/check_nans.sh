#!/bin/sh
# What --check-nans costs: a qwen2_tiny training step (forward, loss, backward
# and the AdamW update; the default batch and length) timed by gc-run --bench with the check and
# without, in alternating rounds; prints each round's medians and the ratio
# of the medians of the rounds.  The budget (issue 19) is 1.3x.
#   bench/check_nans.sh [ROUNDS] [RUNS]      (default 5 rounds of 20 runs)
# GC_BIN_DIR: where gc-run is (default build/bin).
set -eu
rounds=${1:-5}
runs=${2:-20}
bin=${GC_BIN_DIR:-build/bin}
case "${rounds}${runs}" in *[!0-9]*) echo "usage: bench/check_nans.sh [ROUNDS] [RUNS]" >&2; exit 2 ;; esac
step() { "$bin/gc-run" model:qwen2_tiny --train --random-inputs 1 --init 1 --bench "$runs" "$@" |
           sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p'; }
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
off=""; on=""
i=0
while [ "$i" -lt "$rounds" ]; do
  a=$(step); b=$(step --check-nans)
  echo "round $((i + 1)): off ${a} ms, on ${b} ms"
  off="$off $a"; on="$on $b"
  i=$((i + 1))
done
m_off=$(echo "$off" | tr ' ' '\n' | grep . | median)
m_on=$(echo "$on" | tr ' ' '\n' | grep . | median)
awk -v a="$m_off" -v b="$m_on" 'BEGIN {printf "qwen2_tiny step: %.3f ms without --check-nans, %.3f ms with: %.2fx\n", a, b, b / a}'
