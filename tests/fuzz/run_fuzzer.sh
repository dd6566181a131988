#!/usr/bin/env bash
# tests/fuzz/run_fuzzer.sh FUZZER SEEDS WORK [SECONDS]
#
# Runs the libFuzzer harness FUZZER for SECONDS ($GC_FUZZ_SECONDS if set,
# else the argument, else 50) on the seed corpus SEEDS (ir, safetensors or
# tokenizer: seeds.sh; with the dictionary SEEDS.dict if there is one) and
# on the corpus it grew in earlier runs, WORK/corpus.  Exits 0 when it found
# nothing; else 1, printing the end of its log (the sanitizer's report), the
# input that made it fail (kept in WORK/artifacts) and the command that
# reruns it.
set -uo pipefail
usage() { sed -n '2,10s/^# \{0,1\}//p' "$0"; }
case "${1:-}" in --help | -h) usage; exit 0 ;; esac
if [ $# -lt 3 ]; then
  usage >&2
  exit 2
fi
fuzzer=$1 seeds=$2 work=$3 seconds=${GC_FUZZ_SECONDS:-${4:-50}}
here="$(cd "$(dirname "$0")" && pwd)"
name="$(basename "$fuzzer")"
if [ ! -x "$fuzzer" ]; then
  echo "gc-fuzz: no fuzzer at $fuzzer" >&2
  exit 2
fi

mkdir -p "$work/corpus" "$work/tmp"
rm -rf "$work/artifacts"
mkdir -p "$work/artifacts"
if ! "$here/seeds.sh" "$seeds" "$work/seeds"; then
  echo "gc-fuzz: $name: cannot write the seed corpus '$seeds'" >&2
  exit 2
fi

# the sanitizers' reports name functions and lines (llvm-19 is one of gc's packages)
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ]; then
  for s in llvm-symbolizer llvm-symbolizer-19 llvm-symbolizer-14; do
    if command -v "$s" >/dev/null; then
      export ASAN_SYMBOLIZER_PATH="$(command -v "$s")"
      break
    fi
  done
fi

# a dictionary of the format's words, where there is one (SEEDS.dict)
dict=()
[ -f "$here/$seeds.dict" ] && dict=(-dict="$here/$seeds.dict")

export UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

log="$work/log.txt"
start=$(date +%s)
# -timeout: an input taking longer is a hang, reported as such
TMPDIR="$work/tmp" "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$work/artifacts/" "${dict[@]}" "$work/corpus" "$work/seeds" >"$log" 2>&1
status=$?
found=$(find "$work/artifacts" -type f | sort)

if [ $status -eq 0 ] && [ -z "$found" ]; then
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  echo "gc-fuzz: $name: ${runs:-?} runs in $(( $(date +%s) - start ))s," \
       "corpus of $(find "$work/corpus" -type f | wc -l) inputs," \
       "$(find "$work/seeds" -type f | wc -l) seeds: nothing found"
  exit 0
fi

tail -n 60 "$log"
echo
if [ -z "$found" ]; then
  echo "gc-fuzz: $name stopped with status $status without keeping an input; its log is $log"
  exit 1
fi
for f in $found; do
  kind="$(basename "$f" | sed 's/-.*//')"
  echo "gc-fuzz: $name FAILED ($kind) on the input $f"
  echo "gc-fuzz: rerun it with: $fuzzer $f"
done
exit 1
