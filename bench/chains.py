#!/usr/bin/env python3
"""How gc scales with the length of a graph: a chain of N nodes
(%v0 = add %x, %x; %vI = add %vI-1, %x; ...) for N = 25k, 50k, 100k, 200k
through gc-opt's default pipeline and through gc-run (llvm backend, kernels
compiled afresh), each with its wall time, its peak RSS and the ratio of
both to the run at half the length: about 2 when a stage is linear.

  bench/chains.py [--bin build/bin] [--op add|exp|tanh] [--shape 1024]
                  [--sizes 25000,50000,100000,200000] [--skip-run]
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time


def write_chain(path, n, op, shape):
    t = f"f32[{shape}]"
    with open(path, "w") as f:
        f.write(f"graph @chain {{\n  %x = input \"x\" : {t}\n")
        prev = "%x"
        for i in range(n):
            args = f"{prev}, %x" if op == "add" else prev
            f.write(f"  %v{i} = {op} {args} : {t}\n")
            prev = f"%v{i}"
        f.write(f"  output \"y\" = {prev}\n}}\n")


def measure(cmd, env):
    """Wall seconds and peak RSS (MB) of one run of cmd."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(p.pid, 0)
    seconds = time.monotonic() - t0
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"chains.py: {' '.join(cmd)} failed ({os.waitstatus_to_exitcode(status)}): {err.strip()[-300:]}")
    return seconds, usage.ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--bin", default=os.path.join(root, "build", "bin"))
    ap.add_argument("--op", default="add", choices=["add", "exp", "tanh"])
    ap.add_argument("--shape", default="1024")
    ap.add_argument("--sizes", default="25000,50000,100000,200000")
    ap.add_argument("--skip-run", action="store_true", help="only gc-opt")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="gc_chains_") as tmp:
        env = dict(os.environ, GC_CACHE_DIR=os.path.join(tmp, "cache"))
        tools = [("gc-opt", ["-o", os.devnull])]
        if not a.skip_run:
            tools.append(("gc-run", ["--random-inputs", "1", "--bench", "1", "--no-cache"]))
        print(f"chain of {a.op} over f32[{a.shape}]")
        print(f"{'tool':7} {'nodes':>7} {'seconds':>8} {'x prev':>7} {'peak MB':>8} {'x prev':>7}")
        for tool, flags in tools:
            prev = None
            for n in sizes:
                path = os.path.join(tmp, f"chain{n}.gcir")
                if not os.path.exists(path):
                    write_chain(path, n, a.op, a.shape)
                s, mb = measure([os.path.join(a.bin, tool), path] + flags, env)
                rs = f"{s / prev[0]:7.2f}" if prev else f"{'':7}"
                rm = f"{mb / prev[1]:7.2f}" if prev else f"{'':7}"
                print(f"{tool:7} {n:7d} {s:8.2f} {rs} {mb:8.1f} {rm}", flush=True)
                prev = (s, mb)


if __name__ == "__main__":
    main()
