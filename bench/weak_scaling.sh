#!/usr/bin/env bash
# Weak scaling of data parallel gc-train on this machine: the step time of
# 2 ranks x 1 thread with --batch B each (mpirun over TCP on the loopback
# interface only) against 1 rank x 1 thread with --batch B; efficiency =
# t(1 rank) / t(2 ranks), ideal 1.  Also each rank's peak RSS and
# optimizer-state bytes, and the same with --zero 1 (the moments sharded).  For
# qwen2_tiny and GPT-2 124M by default; the step time is the median over
# the steps after the first (which compiles nothing but warms the caches).
# Also the machine's own ceiling: two 1-rank runs at once that never
# communicate (t(1 rank) / t(each of them)): the slowdown two processes
# sharing the caches and memory bus cause without any communication.  The
# runs train on the first 120 KB of the corpus, so the final validation of
# the whole split stays short.
# It builds nothing: build/bin/gc-train (or $GC_BIN_DIR/gc-train) must exist.
#
#   bench/weak_scaling.sh [MODEL:BATCH:SEQ:STEPS ...]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
BIN=${GC_BIN_DIR:-$REPO/build/bin}
case "${1:-}" in -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
[ -x "$BIN/gc-train" ] || { echo "weak_scaling: build $BIN/gc-train first" >&2; exit 2; }
command -v mpirun >/dev/null || { echo "weak_scaling: mpirun not found (scripts/bootstrap.sh installs openmpi-bin)" >&2; exit 2; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
TCP=(--mca btl self,tcp --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# Runs its arguments, then prints the peak RSS of that process (KB) on stderr.
PEAK='import resource, subprocess, sys
rc = subprocess.run(sys.argv[1:]).returncode
print(f"rss_kb={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}", file=sys.stderr)
sys.exit(rc)'

# Median seconds per step of OUT/loss.csv (steps after the first), for
# `tokens` tokens per step.
step_time() {
  awk -F, -v tokens="$2" 'NR > 2 { print tokens / $5 }' "$1/loss.csv" | sort -g |
    awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Peak RSS (KB) of the larger rank and the optimizer state line of rank 0,
# for a 2-rank run into OUT with extra flags.
two_ranks() {
  local out=$1; shift
  { mpirun -q -np 2 --oversubscribe "${TCP[@]}" python3 -c "$PEAK" "$BIN/gc-train" "$model" "${args[@]}" "$@" \
      --out "$out" >"$out.stdout"; } 2>&1 | sed -n 's/rss_kb=//p' | sort -n | tail -1
}
opt_bytes() { sed -n 's/^optimizer state: \([0-9]*\) bytes.*/\1/p' "$1" | head -1; }

head -c 120000 "$REPO/data/tinyshakespeare.txt" >"$WORK/corpus.txt"

for spec in "${@:-qwen2_tiny:16:128:12 gpt2:1:128:5}"; do
  for one in $spec; do
    IFS=: read -r model batch seq steps <<<"$one"
    args=(--batch "$batch" --seq "$seq" --steps "$steps" --threads 1 --max-new 0 --eval-every 100000
          --save-every 100000 --data "$WORK/corpus.txt")
    rm -rf "$WORK"/one* "$WORK"/two* "$WORK"/zero* "$WORK"/pair*
    rss1=$( { python3 -c "$PEAK" "$BIN/gc-train" "$model" "${args[@]}" --out "$WORK/one" >"$WORK/one.stdout"; } 2>&1 |
            sed -n 's/rss_kb=//p')
    "$BIN/gc-train" "$model" "${args[@]}" --out "$WORK/pair_a" >/dev/null 2>&1 &
    "$BIN/gc-train" "$model" "${args[@]}" --out "$WORK/pair_b" >/dev/null 2>&1
    wait
    rss2=$(two_ranks "$WORK/two")
    rssz=$(two_ranks "$WORK/zero" --zero 1)
    t1=$(step_time "$WORK/one" $((batch * seq)))
    t2=$(step_time "$WORK/two" $((2 * batch * seq)))
    tz=$(step_time "$WORK/zero" $((2 * batch * seq)))
    ta=$(step_time "$WORK/pair_a" $((batch * seq)))
    tb=$(step_time "$WORK/pair_b" $((batch * seq)))
    awk -v m="$model" -v b="$batch" -v s="$seq" -v t1="$t1" -v t2="$t2" -v tz="$tz" -v ta="$ta" -v tb="$tb" -v r1="$rss1" -v r2="$rss2" \
        -v rz="$rssz" -v o2="$(opt_bytes "$WORK/two.stdout")" -v oz="$(opt_bytes "$WORK/zero.stdout")" 'BEGIN {
      printf "%-11s batch %d x seq %d: 1 rank %.4f s/step, 2 ranks %.4f s/step, efficiency %.2f; peak RSS 1 rank %.0f MB, 2 ranks %.0f MB (the larger)\n",
             m, b, s, t1, t2, t1 / t2, r1 / 1024, r2 / 1024
      printf "%-11s --zero 1: 2 ranks %.4f s/step, efficiency %.2f; peak RSS %.0f MB (the larger); optimizer state per rank %.1f MB, %.1f MB without\n",
             m, tz, t1 / tz, rz / 1024, oz / 1048576, o2 / 1048576
      printf "%-11s ceiling: two 1-rank runs at once, no communication, %.4f and %.4f s/step, efficiency %.2f\n",
             m, ta, tb, t1 / (ta > tb ? ta : tb) }'
  done
done
