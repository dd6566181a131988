#!/usr/bin/env python3
"""The layer order declared in CMakeLists.txt (GC_LAYERS, GC_DIR_*; ctest
passes it as GC_LAYER_DIRS, lowest first) is kept: scripts/include_order.py
finds no `#include "X/..."` going up it.  First shown to fail: on a small
tree with a planted upward include it must report exactly that line (and
accept it once declared an exception); then the real tree must pass.
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("GC_SOURCE_DIR", os.path.join(HERE, "..", ".."))
CHECK = os.path.join(SRC, "scripts", "include_order.py")
DIRS = os.environ.get("GC_LAYER_DIRS", "").split(":")

# Upward includes the tree keeps on purpose, each with its reason.
EXCEPTIONS = [
    # The umbrella header names every layer a user needs, models included.
    "frontend/gc.h=models/model.h",
    # The program runtime implements the gc_program API that backend.h
    # declares (gc_compile beside it is the top layer); splitting the header
    # is part of moving gc_tensor and the program out of backends/runtime/.
    "backends/runtime/program.h=backends/backend.h",
    "backends/runtime/bench.h=backends/backend.h",
]


def run(root, dirs, allow=()):
    args = [sys.executable, CHECK, root] + dirs
    for a in allow:
        args += ["--allow", a]
    r = subprocess.run(args, capture_output=True, text=True)
    return r.returncode, r.stdout.splitlines()


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def main():
    failures = []

    def expect(what, got, want):
        if got != want:
            failures.append("%s: got %r, want %r" % (what, got, want))

    expect("layers given", len(DIRS) > 5 and "ir" in DIRS and "train" in DIRS, True)
    # the loop IR's stages sit between the graph passes and the compiled backends
    expect("codegen between passes and llvm",
           "codegen" in DIRS and DIRS.index("passes") < DIRS.index("codegen") < DIRS.index("backends/llvm"), True)
    with tempfile.TemporaryDirectory() as t:
        dirs = ["ir", "low/sub", "mid", "low"]
        write(t, "ir/a.h", '#include "ir/b.h"\n#include <stdio.h>\n')
        write(t, "low/sub/k.c", '#include "ir/a.h"\n#include "local.h"\n')
        write(t, "mid/m.c", '#include "low/sub/k.h"\n#include "tests/x.h"\n')
        write(t, "low/top.c", '#include "mid/m.h"\n#include "low/sub/k.h"\n')
        write(t, "tests/t.c", '#include "low/top.h"\n')   # no layer: not checked
        expect("clean tree", run(t, dirs), (0, []))
        write(t, "ir/planted.c", '/* up */\n  #include "mid/m.h"\n')
        write(t, "low/sub/k2.h", '#include "low/top.h"\n')
        code, lines = run(t, dirs)
        expect("planted: status", code, 1)
        expect("planted: lines", lines, [
            'ir/planted.c:2: layer ir includes "mid/m.h" of the higher layer mid',
            'low/sub/k2.h:1: layer low/sub includes "low/top.h" of the higher layer low'])
        expect("planted, declared", run(t, dirs, ["ir/planted.c=mid/m.h", "low/sub/k2.h=low/top.h"]), (0, []))
        expect("bad usage", run(os.path.join(t, "none"), dirs)[0], 2)

    code, lines = run(SRC, DIRS, EXCEPTIONS)
    expect("the tree", (code, lines), (0, []))
    for f in failures:
        print("FAIL", f)
    if not failures:
        print("ok: the tree keeps the order", " < ".join(DIRS))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
