#!/usr/bin/env bash
# tests/fuzz/seeds.sh KIND DIR — writes the seed corpus of a harness into DIR
# (emptied first), taken from the tests:
#
#   ir           every graph of tests/ir/files, tests/passes/cases and
#                tests/tools/ir_graphs; each pass case's expected output
#                (fused kernels, planned offsets and into=); and, when the
#                release build's gc-opt is there ($GC_OPT, else build/bin/gc-opt),
#                every graph through the default pipeline: planned programs
#   safetensors  the small files safetensors_seeds.py writes
#   tokenizer    the small tokenizer.json files tokenizer_seeds.py writes
set -euo pipefail
kind=$1 dir=$2
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rm -rf "$dir"
mkdir -p "$dir"

case "$kind" in
ir)
  graphs=("$root"/tests/ir/files/*.gcir "$root"/tests/passes/cases/*.gcir "$root"/tests/tools/ir_graphs/*.gcir)
  for f in "${graphs[@]}"; do
    name="$(basename "$(dirname "$f")")_$(basename "$f")"
    cp "$f" "$dir/$name"
    # the lines after "# expect:", each without its "# "
    if grep -q '^# expect:$' "$f"; then
      sed -n '/^# expect:$/,$p' "$f" | tail -n +2 | sed -e 's/^# \{0,1\}//' >"$dir/expect_$name"
    fi
  done
  gc_opt="${GC_OPT:-$root/build/bin/gc-opt}"
  if [ -x "$gc_opt" ]; then
    for f in "${graphs[@]}"; do
      name="$(basename "$(dirname "$f")")_$(basename "$f")"
      "$gc_opt" "$f" -o "$dir/planned_$name" 2>/dev/null || rm -f "$dir/planned_$name"
    done
  else
    echo "gc-fuzz: no $gc_opt (build the release build first): the planned seeds are only the passes' expectations" >&2
  fi
  ;;
safetensors)
  python3 "$here/safetensors_seeds.py" "$dir"
  ;;
tokenizer)
  python3 "$here/tokenizer_seeds.py" "$dir"
  ;;
*)
  echo "gc-fuzz: unknown seed corpus '$kind' (ir, safetensors or tokenizer)" >&2
  exit 2
  ;;
esac
