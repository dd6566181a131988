#!/usr/bin/env bash
# gc against its peers on this machine, in one go, ending with a table of ratios:
#
#  (a) dot f32 1024^3 and 2048^3 on 1 and 2 threads against OpenBLAS (numpy),
#      and each as a fraction of the machine's FMA peak;
#  (b) a fused softmax and a layer norm against the memory-bandwidth bound
#      -- (a) and (b) are bench/kernels_vs_numpy.py;
#  (c) a training step of qwen2_tiny (batch 8 x seq 128) and of GPT-2 124M
#      (batch 4 x seq 64; 3 steps x 3 runs, a step takes seconds) against
#      PyTorch eager in its fastest setup: ms/step, tokens/s and peak RSS;
#  (d) gc's compile time for each, cold (empty kernel cache) and warm
#      -- (c) and (d) are bench/train_step_vs_torch.py;
#  (e) a Qwen2-0.5B training step (B=1, T=512, 2 threads, f32) against
#      PyTorch eager at its best, on the big models' short path (1 warm-up
#      and 2 timed steps, one run, each torch setup stopped after 10 minutes):
#      ms/step, the ratio, model FLOP utilisation of both, peak RSS of both;
#  (f) gc's compile of that step at 6, 12 and 24 layers, cold and warm
#      (bench/compile_scaling.py);
#  (g) generation with the KV cache on Qwen2-0.5B (random weights, batch 1,
#      a 128-token prompt then 128 new tokens, greedy): prefill and decode
#      tokens/s against PyTorch eager with a static cache, decode against the
#      memory-bandwidth bound, peak RSS against the weights' size
#      -- bench/decode_vs_torch.py.
#
# It runs bench/setup.sh once (the peers' packages: numpy, torch, OpenBLAS),
# then each bench with --skip-setup; their own output scrolls by, and the
# summary is read from the key=value line each one ends with.  It builds
# nothing: build/bin/gc-run (or $GC_BIN_DIR/gc-run) must exist.  Exits non-zero
# as soon as a bench fails (or refuses, e.g. on a too-busy machine).  The
# whole run takes several minutes; run it on an idle machine.
#
#   bench/vs_peers.sh [--skip-setup]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
BIN=${GC_BIN_DIR:-$REPO/build/bin}
# Debian's numpy and torch are /usr/bin/python3's (another python3 on PATH may lack them)
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3

usage() {
  cat <<EOF
usage: bench/vs_peers.sh [--skip-setup] [--help]

gc against its peers on this machine, ending with a summary table of ratios:
  (a) dot f32 1024^3, 2048^3 on 1 and 2 threads vs OpenBLAS, and as a fraction of FMA peak
  (b) fused softmax and layer norm vs the memory-bandwidth bound
      (a, b: bench/kernels_vs_numpy.py)
  (c) a training step of qwen2_tiny (B=8, T=128) and gpt2 (B=4, T=64) vs PyTorch eager
      at its fastest setup: ms/step, tokens/s, peak RSS
  (d) gc's compile time, cold (empty GC_CACHE_DIR) and warm
      (c, d: bench/train_step_vs_torch.py)
  (e) a Qwen2-0.5B training step (B=1, T=512, 2 threads) vs PyTorch eager: 1 warm-up and
      2 timed steps, torch setups stopped after 600 s; ms/step, MFU, peak RSS
  (f) gc's compile of that step at 6, 12, 24 layers, cold and warm
      (bench/compile_scaling.py)
  (g) Qwen2-0.5B generation (128-token prompt, 128 new tokens) vs PyTorch eager with a
      static KV cache, decode vs the memory-bandwidth bound (bench/decode_vs_torch.py)

  --skip-setup   do not run bench/setup.sh (numpy, torch, OpenBLAS are in place)
  --help         this text

Builds nothing: needs build/bin/gc-run, or \$GC_BIN_DIR/gc-run when set (./gc-test
or cmake --build build makes it).  Exits non-zero when a bench fails.
EOF
}

skip_setup=0
for a in "$@"; do
  case "$a" in
    --skip-setup) skip_setup=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "vs_peers: unknown argument '$a'" >&2; usage >&2; exit 2 ;;
  esac
done

if [[ ! -x $BIN/gc-run ]]; then
  echo "vs_peers: $BIN/gc-run is missing: build gc first (./gc-test, or cmake --build build)" >&2
  exit 1
fi

if (( ! skip_setup )); then
  bash "$HERE/setup.sh" || { rc=$?; echo "vs_peers: bench/setup.sh failed ($rc)" >&2; exit "$rc"; }
fi

out=$(mktemp -d "${TMPDIR:-/tmp}/gc-vs-peers.XXXXXX")
trap 'rm -rf "$out"' EXIT

# run NAME CMD...: runs a bench with its output shown and kept in $out/NAME;
# stops the script with the bench's status when it fails.
run() {
  local name=$1; shift
  echo
  echo "==== $name: ${*#"$REPO/"}"
  local rc=0
  "$@" | tee "$out/$name" || rc=$?
  if (( rc )); then
    echo "vs_peers: $name failed ($rc); stopping" >&2
    exit "$rc"
  fi
}

run kernels "$PY" "$HERE/kernels_vs_numpy.py" --skip-setup
run qwen2_tiny "$PY" "$HERE/train_step_vs_torch.py" --skip-setup --model qwen2_tiny --batch 8 --seq 128
run gpt2 "$PY" "$HERE/train_step_vs_torch.py" --skip-setup --model gpt2 --batch 4 --seq 64 --steps 3 --runs 3
run qwen2_0.5b "$PY" "$HERE/train_step_vs_torch.py" --skip-setup --model qwen2_0.5b --batch 1 --seq 512 \
  --threads 2 --steps 2 --warmup 1 --runs 1 --timeout 600
run compile "$PY" "$HERE/compile_scaling.py" --model qwen2_0.5b --layers 6,12,24 --batch 1 --seq 512
run decode "$PY" "$HERE/decode_vs_torch.py" --skip-setup --model qwen2_0.5b

# get NAME KEY: KEY's value on the last key=value line of bench NAME's output, or -
get() {
  local line
  line=$(grep -E '^[A-Za-z_][A-Za-z0-9_]*=' "$out/$1" | tail -n 1) || true
  awk -v k="$2" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) { v = substr($i, length(k) + 2) } }
                 END { print (v == "" ? "-" : v) }' <<<"$line"
}
# pct X: 0.71 -> 71%, - stays -
pct() {
  if [[ $1 == - ]]; then echo -; else awk -v x="$1" 'BEGIN { printf "%.0f%%", 100 * x }'; fi
}

echo
echo "==== summary: gc against its peers on $(uname -n), $(nproc) cores (ratios above 1: gc ahead)"
echo
echo "(a) dot f32               gc/OpenBLAS    gc of FMA peak"
for n in 1024 2048; do
  for t in 1 2; do
    printf '    %-20s %11sx %17s\n' "${n}^3, $t thread$( ((t > 1)) && echo s)" \
      "$(get kernels "dot${n}_t${t}_ratio")" "$(pct "$(get kernels "dot${n}_t${t}_peak")")"
  done
done
echo
echo "(b) 2 threads             of the memory-bandwidth bound"
printf '    %-20s %12s\n' "softmax rows" "$(pct "$(get kernels softmax_of_bound)")"
printf '    %-20s %12s\n' "layer norm rows" "$(pct "$(get kernels layer_of_bound)")"
echo
# div A B: A / B as 1.23x, - when either is missing
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2fx", a / b }'; }
fmt='    %-20s %9s %7s %10s %10s %10s %11s %9s %9s %9s\n'
echo "(c) training step (torch eager at its fastest setup; ratios torch/gc; gc MFU: of threads x FMA peak)"
# shellcheck disable=SC2059
printf "$fmt" "" "step time" "gc MFU" "gc ms" "torch ms" "gc tok/s" "torch tok/s" "peak RSS" "gc MB" "torch MB"
for m in qwen2_tiny gpt2; do
  label=$([[ $m == gpt2 ]] && echo "gpt2 B4 T64" || echo "qwen2_tiny B8 T128")
  # shellcheck disable=SC2059
  printf "$fmt" "$label" "$(div "$(get $m torch_ms)" "$(get $m gc_ms)")" "$(pct "$(get $m gc_mfu)")" \
    "$(get $m gc_ms)" "$(get $m torch_ms)" "$(get $m gc_tokens_s)" "$(get $m torch_tokens_s)" \
    "$(div "$(get $m torch_rss_mb)" "$(get $m gc_rss_mb)")" "$(get $m gc_rss_mb)" "$(get $m torch_rss_mb)"
done
echo
echo "(d) gc's compile         cold ms   warm ms"
for m in qwen2_tiny gpt2; do
  printf '    %-20s %9s %9s\n' "$m" "$(get $m compile_cold_ms)" "$(get $m compile_warm_ms)"
done
echo
echo "(e) Qwen2-0.5B training step, B1 T512, 2 threads, f32 (torch eager at its fastest setup that finished)"
m=qwen2_0.5b
printf '    %-10s %10s %10s %10s %8s %10s %10s %9s\n' "gc ms" "torch ms" "torch/gc" "gc MFU" \
  "torch MFU" "gc MB" "torch MB" "torch/gc"
printf '    %-10s %10s %10s %10s %8s %10s %10s %9s\n' "$(get $m gc_ms)" "$(get $m torch_ms)" \
  "$(div "$(get $m torch_ms)" "$(get $m gc_ms)")" "$(pct "$(get $m gc_mfu)")" "$(pct "$(get $m torch_mfu)")" \
  "$(get $m gc_rss_mb)" "$(get $m torch_rss_mb)" "$(div "$(get $m torch_rss_mb)" "$(get $m gc_rss_mb)")"
echo
echo "(f) gc's compile of the Qwen2-0.5B step   cold ms   warm ms   kernels   compiled"
for n in 6 12 24; do
  printf '    %-34s %9s %9s %9s %10s\n' "$n layers" "$(get compile "compile_cold_ms_L$n")" \
    "$(get compile "compile_warm_ms_L$n")" "$(get compile "kernels_L$n")" "$(get compile "compiled_L$n")"
done
echo "(g) qwen2_0.5b generation  gc/torch   gc tok/s  torch tok/s   of bound  bound tok/s"
printf '    %-20s %9s %10s %12s %10s %12s\n' "prefill (128 tokens)" "$(div "$(get decode gc_prefill_tok_s)" "$(get decode torch_prefill_tok_s)")" \
  "$(get decode gc_prefill_tok_s)" "$(get decode torch_prefill_tok_s)" "" ""
printf '    %-20s %9s %10s %12s %10s %12s\n' "decode (f32)" "$(div "$(get decode gc_decode_tok_s)" "$(get decode torch_decode_tok_s)")" \
  "$(get decode gc_decode_tok_s)" "$(get decode torch_decode_tok_s)" "$(pct "$(get decode of_bound)")" "$(get decode bound_tok_s)"
echo "    peak RSS: gc $(get decode gc_rss_mb) MB, $(get decode rss_of_weights)x the f32 weights ($(get decode weights_mb) MB)"
