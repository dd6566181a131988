#!/usr/bin/env bash
# tests/fuzz/check_planted.sh PLANTED REAL WORK — the test that fuzzing
# catches a crash.  PLANTED is fuzz_ir built on a copy of the IR lexer with a
# bug planted in it (tests/fuzz/CMakeLists.txt), REAL the true
# fuzz_ir.  run_fuzzer.sh, as the suite runs it, must fail on PLANTED within
# its time (no seed crashes it; the fuzzer takes a second or so), naming an
# input and a command to rerun it; that command must fail again with the
# sanitizer's report of the planted line, and REAL must pass the same input
# (what was found is the planted bug).
set -uo pipefail
if [ $# -ne 3 ]; then
  sed -n '2,10s/^# \{0,1\}//p' "$0"
  exit 2
fi
planted=$1 real=$2 work=$3
here="$(cd "$(dirname "$0")" && pwd)"
failed=0
check() { # check WHAT CONDITION...: prints and counts a failed condition
  local what=$1
  shift
  if ! "$@"; then
    echo "check_planted: FAILED: $what"
    failed=1
  fi
}

rm -rf "$work"
start=$(date +%s)
out="$(GC_FUZZ_SECONDS=120 "$here/run_fuzzer.sh" "$planted" ir "$work")"
status=$?
echo "$out" | tail -n 4
echo "check_planted: run_fuzzer.sh exited with $status after $(( $(date +%s) - start ))s"
check "run_fuzzer.sh reports the crash with status 1" [ "$status" -eq 1 ]

input="$(echo "$out" | sed -n 's/^gc-fuzz: .* FAILED (crash) on the input //p' | head -n 1)"
rerun="$(echo "$out" | sed -n 's/^gc-fuzz: rerun it with: //p' | head -n 1)"
check "it names the input that crashed" test -f "$input"
check "it names a rerun command" [ "$rerun" = "$planted $input" ]
if [ -f "$input" ]; then
  again="$("$planted" "$input" 2>&1)"
  check "the rerun crashes again" [ $? -ne 0 ]
  check "the sanitizer reports the read outside the table, in the planted copy" \
    grep -q 'lexer_planted\.c:[0-9]*:[0-9]*: runtime error: index -\?[0-9]* out of bounds' <<<"$again"
  "$real" "$input" >/dev/null 2>&1
  check "the real lexer passes the same input" [ $? -eq 0 ]
fi
# a fresh, empty corpus: running PLANTED runs the seeds alone
mkdir -p "$work/empty"
"$planted" -runs=0 "$work/empty" "$work/seeds" >/dev/null 2>&1
check "no seed crashes the planted copy (the fuzzer found the input)" [ $? -eq 0 ]
[ $failed -eq 0 ] || echo "$out"
exit $failed
