#!/usr/bin/python3
"""gc's kernels against their physical limits and against OpenBLAS.

- dot f32, N^3 for N in 1024 and 2048, on 1 and 2 threads: gc's llvm backend
  (`gc-run mm.gcir --backend llvm --bench R --threads T`) against numpy's
  matmul on OpenBLAS (libopenblas0-pthread, OPENBLAS_NUM_THREADS=T, each
  thread count in its own process; when the environment pins OpenBLAS's
  kernels with OPENBLAS_CORETYPE, also with OpenBLAS's own pick for this
  CPU, keeping the faster), in GFLOP/s, as a ratio, and as a fraction of
  the machine's FMA peak (../shared/tools/fma-peak: one core's;
  two threads are measured against twice it).
- a fused softmax and a layer norm over rows of f32[4096, 4096] (64 MiB in,
  64 MiB out) on 2 threads, against the memory-bandwidth bound: the bytes a
  kernel must move (read x once, write y once) at the bandwidth numpy's
  copy of the same array reaches on this machine (each at its best of a
  few runs).

Every figure is the median over --runs repetitions (the machine is shared);
the peers get the same treatment.  bench/setup.sh installs numpy and
OpenBLAS; the bench refuses to compare against a numpy whose 1024^3 matmul
on 1 thread is below 50 GFLOP/s (the reference BLAS).

    /usr/bin/python3 bench/kernels_vs_numpy.py [--runs R] [--skip-setup]

The last line is key=value: dot1024_t1_ratio=... (gc / OpenBLAS) and so on.
bench/vs_peers.sh runs this beside bench/train_step_vs_torch.py and sums both up.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BIN = os.environ.get("GC_BIN_DIR", os.path.join(REPO, "build", "bin"))
FMA_PEAK = os.path.join(REPO, "..", "shared", "tools", "fma-peak")
# Debian's numpy is /usr/bin/python3's (another python3 on PATH may lack it)
PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
MIN_NUMPY_GFLOPS = 50.0
ROWS, COLS = 4096, 4096

NUMPY_DOT = r"""
import sys, time, numpy as np
n, reps = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(1)
a = rng.standard_normal((n, n), dtype=np.float32)
b = rng.standard_normal((n, n), dtype=np.float32)
c = np.empty((n, n), dtype=np.float32)
np.matmul(a, b, out=c)
ts = []
for _ in range(reps):
    t = time.perf_counter(); np.matmul(a, b, out=c); ts.append(time.perf_counter() - t)
ts.sort()
print(2.0 * n ** 3 / ts[len(ts) // 2] / 1e9)
"""

NUMPY_COPY = r"""
import sys, time, numpy as np
rows, cols, reps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
x = np.ones((rows, cols), dtype=np.float32); y = np.empty_like(x)
np.copyto(y, x)
best = min((lambda t: (np.copyto(y, x), time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(reps))
print(2.0 * x.nbytes / best / 1e9)
"""


def sh(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode:
        sys.exit(f"kernels_vs_numpy: {' '.join(cmd)} failed:\n{r.stderr.strip()}")
    return r.stdout


def fma_peak():
    """One core's FP32 FMA peak in GFLOP/s, or None."""
    if not os.access(FMA_PEAK, os.X_OK):
        return None
    m = re.search(r"fma_peak_gflops_per_core=([0-9.]+)", sh([FMA_PEAK]))
    return float(m.group(1)) if m else None


def gc_bench(text, threads, reps, tmp, name):
    path = os.path.join(tmp, name + ".gcir")
    with open(path, "w") as f:
        f.write(text)
    out = sh([os.path.join(BIN, "gc-run"), path, "--backend", "llvm", "--random-inputs", "1",
              "--bench", str(reps), "--threads", str(threads)])
    kv = dict(re.findall(r"(\w+)=([0-9.]+)", out.strip().splitlines()[-1]))
    return float(kv["median_ms"]), float(kv["gflops"])


def dot_graph(n):
    return (f"graph @dot{n} {{\n  %a = input \"a\" : f32[{n},{n}]\n  %b = input \"b\" : f32[{n},{n}]\n"
            f"  %c = dot %a, %b : f32[{n},{n}]\n  output \"c\" = %c\n}}\n")


def softmax_graph(r, c):
    return f"""graph @softmax {{
  %x = input "x" : f32[{r},{c}]
  %m = reduce_max %x {{axes=[1], keepdims=true}} : f32[{r},1]
  %mb = broadcast %m : f32[{r},{c}]
  %s = sub %x, %mb : f32[{r},{c}]
  %e = exp %s : f32[{r},{c}]
  %z = reduce_sum %e {{axes=[1], keepdims=true}} : f32[{r},1]
  %zb = broadcast %z : f32[{r},{c}]
  %y = div %e, %zb : f32[{r},{c}]
  output "y" = %y
}}
"""


def layer_norm_graph(r, c):
    return f"""graph @layer_norm {{
  %x = input "x" : f32[{r},{c}]
  %w = input "w" : f32[{c}]
  %b = input "b" : f32[{c}]
  %inv_n = const {1.0 / c} : f32[{r},1]
  %eps = const 1e-05 : f32[{r},1]
  %s = reduce_sum %x {{axes=[1], keepdims=true}} : f32[{r},1]
  %mean = mul %s, %inv_n : f32[{r},1]
  %mb = broadcast %mean : f32[{r},{c}]
  %d = sub %x, %mb : f32[{r},{c}]
  %d2 = mul %d, %d : f32[{r},{c}]
  %v = reduce_sum %d2 {{axes=[1], keepdims=true}} : f32[{r},1]
  %var = mul %v, %inv_n : f32[{r},1]
  %ve = add %var, %eps : f32[{r},1]
  %rs = rsqrt %ve : f32[{r},1]
  %rb = broadcast %rs : f32[{r},{c}]
  %n = mul %d, %rb : f32[{r},{c}]
  %wb = broadcast %w : f32[{r},{c}]
  %nw = mul %n, %wb : f32[{r},{c}]
  %bb = broadcast %b : f32[{r},{c}]
  %y = add %nw, %bb : f32[{r},{c}]
  output "y" = %y
}}
"""


def numpy_run(script, args, threads, own_pick=False):
    """The script's figure with numpy on `threads` OpenBLAS threads; with
    own_pick, OpenBLAS chooses its kernels for this CPU even when the
    environment pins them (OPENBLAS_CORETYPE)."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    if own_pick:
        env.pop("OPENBLAS_CORETYPE", None)
    return float(sh([PYTHON, "-c", script, *map(str, args)], env).strip())


def openblas_best(n, reps, threads, runs):
    """OpenBLAS's dot at its best: the median over runs, with the kernels the
    environment pins and (when it pins them) with OpenBLAS's own pick,
    alternating; the faster of the two, and which it was."""
    picks = [False, True] if os.environ.get("OPENBLAS_CORETYPE") else [False]
    figures = {p: [] for p in picks}
    for _ in range(runs):
        for p in picks:
            figures[p].append(numpy_run(NUMPY_DOT, [n, reps], threads, p))
    best = max(picks, key=lambda p: statistics.median(figures[p]))
    name = "own pick" if best else (f"OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']}"
                                    if os.environ.get("OPENBLAS_CORETYPE") else "own pick")
    return statistics.median(figures[best]), name


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="repetitions of each measurement (median)")
    ap.add_argument("--skip-setup", action="store_true", help="do not run bench/setup.sh")
    a = ap.parse_args(argv)
    if not a.skip_setup:
        subprocess.run(["bash", os.path.join(HERE, "setup.sh")], check=True)
    if not os.access(os.path.join(BIN, "gc-run"), os.X_OK):
        sys.exit(f"kernels_vs_numpy: {BIN}/gc-run is missing: build first (./gc-test or cmake --build build)")
    peak = fma_peak()
    print(f"machine: one core's FMA peak {peak:.1f} GFLOP/s" if peak else
          f"machine: FMA peak unknown ({os.path.normpath(FMA_PEAK)} not found)")
    numpy_check = max(numpy_run(NUMPY_DOT, [1024, 3], 1), numpy_run(NUMPY_DOT, [1024, 3], 1, True))
    if numpy_check < MIN_NUMPY_GFLOPS:
        sys.exit(f"kernels_vs_numpy: numpy's 1024^3 matmul on 1 thread reaches {numpy_check:.1f} GFLOP/s, "
                 f"below {MIN_NUMPY_GFLOPS:.0f}: it is not on OpenBLAS (run bench/setup.sh)")
    kv = {}
    with tempfile.TemporaryDirectory() as tmp:
        print(f"\n{'dot f32':<14}{'threads':>8}{'gc GFLOP/s':>12}{'OpenBLAS':>10}{'gc/OpenBLAS':>13}"
              f"{'gc/peak':>9}{'OpenBLAS/peak':>15}  OpenBLAS kernels")
        for n in (1024, 2048):
            reps = 10 if n == 1024 else 4
            for t in (1, 2):
                gc = statistics.median(gc_bench(dot_graph(n), t, reps, tmp, f"dot{n}")[1] for _ in range(a.runs))
                ob, pick = openblas_best(n, reps, t, a.runs)
                frac = (lambda g: f"{g / (peak * t):.0%}") if peak else (lambda g: "-")
                print(f"{f'{n}^3':<14}{t:>8}{gc:>12.1f}{ob:>10.1f}{gc / ob:>12.2f}x{frac(gc):>9}{frac(ob):>15}  {pick}")
                kv[f"dot{n}_t{t}_gflops"] = f"{gc:.1f}"
                kv[f"dot{n}_t{t}_ratio"] = f"{gc / ob:.2f}"
                if peak:
                    kv[f"dot{n}_t{t}_peak"] = f"{gc / (peak * t):.2f}"
        bw = statistics.median(numpy_run(NUMPY_COPY, [ROWS, COLS, 5], 2) for _ in range(a.runs))
        moved = 2 * ROWS * COLS * 4   # x read once, y written once
        print(f"\nmemory: numpy's copy of f32[{ROWS},{COLS}] moves {bw:.1f} GB/s (read + write)")
        print(f"{'kernel (2 threads)':<24}{'ms':>8}{'GB/s':>8}{'bound ms':>10}{'of bound':>10}")
        for name, text in (("softmax rows", softmax_graph(ROWS, COLS)), ("layer norm rows", layer_norm_graph(ROWS, COLS))):
            ms = statistics.median(gc_bench(text, 2, 10, tmp, name.split()[0])[0] for _ in range(a.runs))
            bound = moved / (bw * 1e9) * 1e3
            print(f"{name:<24}{ms:>8.2f}{moved / ms / 1e6:>8.1f}{bound:>10.2f}{bound / ms:>9.0%}")
            kv[f"{name.split()[0].replace(' ', '_')}_of_bound"] = f"{bound / ms:.2f}"
    print(" ".join(f"{k}={v}" for k, v in kv.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
