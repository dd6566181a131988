#!/usr/bin/env bash
# Shared by ./gc-train and ./gc-test: install the Debian packages gc needs
# (once), then configure and build a build directory.
#
#   gc_bootstrap_packages [PKG...]    install what is missing (GC_PACKAGES and
#                                     any extra ones), or explain how
#   gc_build DIR [cmake args...]      configure DIR if needed, then build it
set -euo pipefail

GC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GC_PACKAGES=(gcc cmake ninja-build pkg-config llvm-19-dev libxxhash-dev libjansson-dev libonig-dev libutf8proc-dev
             libcmocka-dev libffi-dev libopenmpi-dev openmpi-bin)

# What the test suite needs besides: the independent reference implementations
# the Python tests compare gc with; clang and its runtime (libFuzzer and the
# sanitizers) for the fuzzers of tests/fuzz.  The tokenizer tests' npm
# packages (and node itself, where it is missing) are installed on first use
# by scripts/npm_fixtures.sh.
GC_TEST_PACKAGES=(python3-numpy python3-torch clang libclang-rt-14-dev)

gc_missing_packages() {
  local p
  for p in "${GC_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

gc_bootstrap_packages() {
  local missing
  missing=$(gc_missing_packages "$@" | tr '\n' ' ')
  [ -z "${missing// /}" ] && return 0
  echo "gc: installing Debian packages: $missing" >&2
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo="sudo"
    else
      echo "gc: these packages are missing; install them as root with:" >&2
      echo "  apt-get update && apt-get install -y $missing" >&2
      exit 1
    fi
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  # shellcheck disable=SC2086
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >&2
}

gc_build() {
  local dir="$1"
  shift
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S "$GC_ROOT" -B "$dir" -G Ninja "$@" >&2
  fi
  cmake --build "$dir" -j "$(nproc)" >&2
}
