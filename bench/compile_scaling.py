#!/usr/bin/env python3
"""How gc's compile of a training step grows with the number of layers.

For each layer count L of --layers (default 6,12,24), the model's training
step (`gc-run model:MODEL --set LAYERS_KEY=L --train --batch B --seq T
--compile-only`) is compiled twice with a kernel cache of its own: first into
an empty GC_CACHE_DIR (cold: every distinct kernel through LLVM), then again
(warm: every kernel from the cache).  --compile-only reads and draws no
weights, so a 0.5B model's compile is measured in about 150 MB.  Each line
shows compile_ms (gc_compile: the passes, lowering, LLVM or the cache, the
arena), how many kernels the step has and how many were compiled or loaded,
and the per-layer cost against the smallest L.  The layers are alike, so the
distinct kernels (and the cold compile's LLVM time) should not grow with L,
and the warm compile should grow linearly.

The output ends with one key=value line:
  compile_cold_ms_L6=... compile_warm_ms_L6=... kernels_L6=... compiled_L6=... (each L)
bench/vs_peers.sh runs it for qwen2_0.5b at B=1, T=512.

    /usr/bin/python3 bench/compile_scaling.py [--model M] [--layers 6,12,24] [--batch B] [--seq T]
        [--threads N]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BIN = os.environ.get("GC_BIN_DIR", os.path.join(REPO, "build", "bin"))
# the config key that counts a model's layers (Hugging Face names)
LAYERS_KEY = {"qwen2": "num_hidden_layers", "gpt2": "n_layer", "bert": "num_hidden_layers", "t5": "num_layers"}


def compile_once(cmd, cache_dir):
    """gc-run --compile-only's figures as a dict of floats."""
    env = dict(os.environ, GC_CACHE_DIR=cache_dir)
    env.pop("GC_NO_CACHE", None)
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"compile_scaling: {' '.join(cmd)} failed ({r.returncode}):\n{r.stderr.strip()}")
    for line in reversed(r.stdout.splitlines()):
        pairs = dict(re.findall(r"([A-Za-z_]\w*)=([-+0-9.eE]+)", line))
        if "compile_ms" in pairs:
            return {k: float(v) for k, v in pairs.items()}
    sys.exit(f"compile_scaling: no compile_ms in the output of {' '.join(cmd)}:\n{r.stdout}")


def main(argv):
    p = argparse.ArgumentParser(description="gc's compile time of a training step, cold and warm, at several "
                                            "layer counts: does it grow linearly with the layers?")
    p.add_argument("--model", default="qwen2_0.5b", help="model preset (default qwen2_0.5b)")
    p.add_argument("--layers", default="6,12,24", help="layer counts, comma-separated (default 6,12,24)")
    p.add_argument("--batch", type=int, default=1, help="batch size (default 1)")
    p.add_argument("--seq", type=int, default=512, help="sequence length (default 512)")
    p.add_argument("--threads", type=int, default=0, help="gc's threads (default: the cores)")
    args = p.parse_args(argv)
    try:
        layers = [int(x) for x in args.layers.split(",")]
    except ValueError:
        p.error(f"--layers takes integers separated by commas, not {args.layers!r}")
    if not layers or min(layers) < 1 or min(args.batch, args.seq) < 1:
        p.error("--layers, --batch and --seq must be positive")
    key = LAYERS_KEY.get(re.match(r"[a-z]*\d?", args.model).group(0))
    if not key:
        p.error(f"no layer-count key known for {args.model!r} (families: {', '.join(LAYERS_KEY)})")
    gc_run = os.path.join(BIN, "gc-run")
    if not os.access(gc_run, os.X_OK):
        sys.exit(f"compile_scaling: {gc_run} does not exist: build gc first (./gc-test builds it), or set GC_BIN_DIR")
    sys.stdout.reconfigure(line_buffering=True)
    print(f"{args.model} training step, batch {args.batch} x seq {args.seq}: gc-run --compile-only, "
          f"each layer count with an empty kernel cache (cold), then again (warm)")
    print(f"  {'layers':>6s} {'cold ms':>9s} {'warm ms':>9s} {'kernels':>8s} {'compiled':>9s} {'cached':>7s}"
          f" {'cold ms/layer':>14s} {'warm ms/layer':>14s}")
    figures, first = {}, None
    for n in sorted(layers):
        cmd = [gc_run, f"model:{args.model}", "--set", f"{key}={n}", "--train", "--batch", str(args.batch),
               "--seq", str(args.seq), "--compile-only"] + (["--threads", str(args.threads)] if args.threads else [])
        cache_dir = tempfile.mkdtemp(prefix="gc-compile-scaling-")
        try:
            cold = compile_once(cmd, cache_dir)
            warm = compile_once(cmd, cache_dir)
        finally:
            shutil.rmtree(cache_dir, ignore_errors=True)
        per = ["", ""]
        if first is None:
            first = (n, cold["compile_ms"], warm["compile_ms"])
        elif n > first[0]:
            per = [f"{(c - f) / (n - first[0]):.1f}" for c, f in ((cold["compile_ms"], first[1]),
                                                                 (warm["compile_ms"], first[2]))]
        print(f"  {n:6d} {cold['compile_ms']:9.0f} {warm['compile_ms']:9.0f} {cold.get('kernels', 0):8.0f} "
              f"{cold.get('compiled', 0):9.0f} {warm.get('cached', 0):7.0f} {per[0]:>14s} {per[1]:>14s}")
        figures[n] = (cold, warm)
    if first is not None and len(figures) > 1:
        print(f"  (ms/layer: the growth from {first[0]} layers, per layer added)")
    print(" ".join(f"compile_cold_ms_L{n}={c['compile_ms']:.1f} compile_warm_ms_L{n}={w['compile_ms']:.1f} "
                   f"kernels_L{n}={c.get('kernels', 0):.0f} compiled_L{n}={c.get('compiled', 0):.0f}"
                   for n, (c, w) in figures.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
