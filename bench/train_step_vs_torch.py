#!/usr/bin/env python3
"""One training step of gc against PyTorch at its best on this machine.

What is measured: the wall time of one whole training step -- forward, loss
(next-token cross-entropy), backward, gradient clipping to norm 1.0 and an
AdamW update (lr 1e-3, betas 0.9/0.95, eps 1e-8, weight decay 0.1 on params of
rank >= 2: gc's defaults, frontend/optim.c) -- of the same model (default
qwen2_tiny, tests/reference/hf_models.py CONFIGS) on the same batch shape, the
median over --steps timed steps after --warmup untimed ones, and the median of
that over --runs repetitions of the whole measurement (the machine is shared
and noisy; the runs interleave gc and torch so drift hits both).  gc's step
also evaluates its LR schedule in the graph; torch's is left out (a few scalar
operations).

Why it is built this way: a comparison with a slowed peer misleads.  So torch
gets its best setup here:
- its BLAS must be OpenBLAS, not the reference BLAS a bare Debian falls back to
  (about 10x slower): bench/setup.sh installs libopenblas0-pthread, and the
  bench refuses to run when torch's 1024^3 f32 matmul is below 50 GFLOP/s;
  when the environment pins OpenBLAS's kernels (OPENBLAS_CORETYPE), the
  matmul is also measured with OpenBLAS's own pick and the faster is kept;
- its setups are each tried in their own process (so the environment takes
  effect) and the fastest is kept: torch's default threads, and 2 threads with
  OMP_WAIT_POLICY=PASSIVE, each with glibc malloc as it is and with malloc
  keeping freed memory (GLIBC_TUNABLES), as gc keeps its buffers;
- the model is written for speed, as a PyTorch user would (bench/torch_models.py:
  nn.Linear, fused q|k|v, baddbmm attention with a prebuilt causal mask,
  in-place SiLU, AdamW(foreach=True), zero_grad(set_to_none=True)), and before
  it is timed its loss must equal the reference model's (hf_models.forward) on
  the same weights and batch to 1e-5 relative, in f32.

gc's side is `gc-run model:MODEL --train --init 1 --random-inputs 1 --batch B
--seq T --bench STEPS` (one key=value line: median_ms=... and more).  Programs
come from build/bin, or $GC_BIN_DIR when set.  Its kernel cache
(GC_CACHE_DIR) is a fresh temporary directory: one untimed run with it empty
(`--bench 1`) gives the cold compile time, then the timed runs reuse it and
give the warm one (compile_ms of each; the directory is removed at the end).

Peak RSS: gc's is gc-run's peak_rss_mb (getrusage's ru_maxrss of the whole
process: weights, compile, steps), the median over the timed runs; torch's
is ru_maxrss of the worker process of the kept setup (torch, the model, the
optimizer, warm-up and timed steps), with the high-water mark reset
(/proc/self/clear_refs) after the loss check, whose reference model holds a
second copy of the weights no training needs.

The output ends with one key=value line: gc_ms=... torch_ms=... ratio=...
gc_tokens_s=... torch_tokens_s=... gc_rss_mb=... torch_rss_mb=...
compile_cold_ms=... compile_warm_ms=... gc_mfu=..., where ratio = torch_ms / gc_ms
(above 1: gc is faster) and gc_mfu, the model FLOP utilisation, is gc's GFLOP/s
(gc's own FLOP count of the step over its median time) over threads x one
core's FMA peak (fma-peak, run after the timing; absent without it).  bench/vs_peers.sh runs this for qwen2_tiny and
GPT-2 124M beside bench/kernels_vs_numpy.py.

    /usr/bin/python3 bench/train_step_vs_torch.py [--model M] [--batch B] [--seq T]
        [--steps N] [--warmup W] [--runs R] [--backend interp|llvm] [--threads N] [--skip-setup]
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "reference"))
sys.path.insert(0, os.path.join(REPO, "tests", "models"))

BIN = os.environ.get("GC_BIN_DIR", os.path.join(REPO, "build", "bin"))
FMA_PEAK = os.path.join(REPO, "..", "shared", "tools", "fma-peak")
MIN_MATMUL_GFLOPS = 50.0
LOSS_TOL = 1e-5             # relative, f32 fast model against f32 reference model
CLIP, LR, BETAS, EPS, WEIGHT_DECAY = 1.0, 1e-3, (0.9, 0.95), 1e-8, 0.1

# Torch's setups, each timed in its own process: the thread setups crossed with
# glibc malloc as it is and told to keep freed memory (torch allocates every
# activation afresh each step; by default glibc returns large blocks to the
# kernel and faults them back in, which costs a VM like this one ~1000 page
# faults per qwen2_tiny step).  name -> (extra environment, torch.set_num_threads
# argument or None for torch's default).
THREADS = {
    "default threads": ({}, None),
    "2 threads, OMP_WAIT_POLICY=PASSIVE": ({"OMP_WAIT_POLICY": "PASSIVE"}, 2),
}
MALLOC = {
    "": {},
    "malloc keeps freed memory": {
        "GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824"},
}
SETUPS = {", ".join(filter(None, (t, m))): ({**t_env, **m_env}, n)
          for t, (t_env, n) in THREADS.items() for m, m_env in MALLOC.items()}
DEFAULT_SETUP = "default threads"


class Refused(Exception):
    """A reason not to measure; main() prints it and exits 1."""


# ---- the torch side, run in a worker process per setup

def matmul_gflops(n=1024, reps=5):
    """torch's n x n x n f32 matmul, best of reps, in GFLOP/s."""
    import torch
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n ** 3 / best / 1e9


def blas_in_use():
    """The BLAS library this process has mapped (torch's, through libblas.so.3),
    with OpenBLAS's own description of itself when it is OpenBLAS."""
    import ctypes
    libs = {}
    for line in open("/proc/self/maps"):
        m = re.search(r"(/\S*/lib[^/]*blas[^/]*\.so[^/\s]*)$", line.strip())
        if m:
            p = m.group(1)
            kind = ("OpenBLAS" if "openblas" in p else "reference BLAS (libblas3)" if "/blas/libblas" in p
                    else "MKL" if "mkl" in p else "BLIS" if "blis" in p else "BLAS")
            libs.setdefault(kind, p)
    if not libs:
        return "no BLAS library mapped"
    desc = []
    for kind, p in libs.items():
        d = f"{kind} {os.path.realpath(p)}"
        if kind == "OpenBLAS":
            try:
                lib = ctypes.CDLL(p)
                lib.openblas_get_config.restype = lib.openblas_get_corename.restype = ctypes.c_char_p
                d += (f" ({lib.openblas_get_config().decode().strip()}; kernels for "
                      f"{lib.openblas_get_corename().decode()}, {lib.openblas_get_num_threads()} threads)")
            except (OSError, AttributeError):
                pass
        desc.append(d)
    return "; ".join(desc)


def make_batch(cfg, B, T, seed):
    """Random weights under HF names (the reference test's initialiser) and a
    random batch of tokens and labels, uniform in [0, vocab) as gc's
    --random-inputs draws them."""
    import torch
    from test_hf_reference import make_weights
    gen = torch.Generator().manual_seed(seed)
    weights = make_weights(cfg, torch.float32, gen)
    ids = torch.randint(0, cfg["vocab_size"], (B, T), generator=gen)
    labels = torch.randint(0, cfg["vocab_size"], (B, T), generator=gen)
    return weights, ids, labels


def checked_model(cfg, B, T, seed=0):
    """The fast model with random weights, and a batch; raises Refused unless
    its loss equals the reference model's on both."""
    import torch
    import hf_models
    import torch_models
    weights, ids, labels = make_batch(cfg, B, T, seed)
    model = torch_models.build(cfg, T).load_hf(weights)
    with torch.no_grad():
        fast = float(model(ids, labels))
        ref = float(hf_models.forward(cfg, weights, {"input_ids": ids, "labels": labels})[0])
    rel = abs(fast - ref) / abs(ref)
    check = {"fast_loss": fast, "ref_loss": ref, "loss_rel_err": rel}
    if not rel <= LOSS_TOL:
        raise Refused(f"the fast torch model's loss {fast:.8g} differs from the reference model's "
                      f"{ref:.8g} by {rel:.3g} relative (> {LOSS_TOL:g}): bench/torch_models.py "
                      f"is not the same model; not timing it")
    return model, ids, labels, check


def adamw(model):
    """torch.optim.AdamW as gc's default optimizer: weight decay on rank >= 2 only."""
    import torch
    params = list(model.parameters())
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": WEIGHT_DECAY},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=LR, betas=BETAS, eps=EPS, foreach=True)


def reset_peak_rss():
    """Resets this process's peak RSS (VmHWM, which ru_maxrss reads) to its
    present RSS; False where the kernel does not allow it (Linux >= 4.0 does)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_mb():
    """This process's peak RSS in MB (ru_maxrss is in KiB on Linux)."""
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def time_train_steps(model, ids, labels, warmup, steps):
    """Per-step wall times (s) of `steps` training steps after `warmup` ones."""
    import torch
    opt, params = adamw(model), list(model.parameters())
    times = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = model(ids, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, CLIP)
        opt.step()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    return times


def worker(args):
    """One setup in this process: matmul rate, BLAS (only those with --probe),
    loss check, step times; prints one JSON line."""
    import torch
    import hf_models
    _, threads = SETUPS[args.worker]
    if threads:
        torch.set_num_threads(threads)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(),
           "matmul_gflops": matmul_gflops(), "blas": blas_in_use()}
    if args.probe:
        print(json.dumps(out))
        return
    try:
        if args.model not in hf_models.CONFIGS:
            raise Refused(f"unknown model {args.model!r}; known: {', '.join(hf_models.CONFIGS)}")
        model, ids, labels, check = checked_model(hf_models.CONFIGS[args.model], args.batch, args.seq)
    except (Refused, ValueError) as e:
        out["refused"] = str(e)
        print(json.dumps(out))
        return
    out.update(check)
    if args.steps:
        # the loss check's weights and reference activations are gone: the
        # peak from here on is the training's
        out["rss_reset"] = reset_peak_rss()
        times = time_train_steps(model, ids, labels, args.warmup, args.steps)
        out.update(median_ms=1e3 * statistics.median(times), min_ms=1e3 * min(times),
                   peak_rss_mb=peak_rss_mb())
    print(json.dumps(out))


def environment(*changes):
    """os.environ with each {name: value} of changes applied (None removes a name)."""
    env = dict(os.environ)
    for change in changes:
        for k, v in change.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
    return env


def blas_environments():
    """{description: environment change} for torch's BLAS to be tried with.
    OpenBLAS picks its kernels by cpuid unless OPENBLAS_CORETYPE names them;
    when the environment sets it, OpenBLAS's own pick is tried too (a machine
    may pin, say, Haswell's AVX2 kernels on an AVX-512 core)."""
    pinned = os.environ.get("OPENBLAS_CORETYPE")
    if not pinned:
        return {"": {}}
    return {f"OPENBLAS_CORETYPE={pinned} (as set)": {},
            "OPENBLAS_CORETYPE unset (OpenBLAS picks by cpuid)": {"OPENBLAS_CORETYPE": None}}


def run_worker(args, setup, steps, blas_env, probe=False):
    env_extra, _ = SETUPS[setup]
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", setup, "--model", args.model,
           "--batch", str(args.batch), "--seq", str(args.seq), "--steps", str(steps),
           "--warmup", str(args.warmup)] + (["--probe"] if probe else [])
    r = subprocess.run(cmd, capture_output=True, text=True, env=environment(blas_env, env_extra))
    if r.returncode != 0:
        raise Refused(f"the torch worker ({setup}) failed ({r.returncode}):\n{r.stderr.strip()}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    if "refused" in out:
        raise Refused(out["refused"])
    return out


# ---- the gc side

def gc_command(args):
    """(argv, description) of gc's timed run: gc-run --bench."""
    gc_run = os.path.join(BIN, "gc-run")
    if not os.access(gc_run, os.X_OK):
        raise Refused(f"{gc_run} does not exist: build gc first (./gc-test builds it), or set GC_BIN_DIR")
    cmd = [gc_run, f"model:{args.model}", "--train", "--init", "1", "--random-inputs", "1",
           "--batch", str(args.batch), "--seq", str(args.seq), "--bench", str(args.steps)]
    if args.backend:
        cmd += ["--backend", args.backend]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    return cmd, f"gc-run --bench ({args.backend or 'default backend'})"


def cold_command(cmd):
    """gc's command for the cold-compile run: the same with --bench 1 (the
    compile is the same; fewer steps are quicker)."""
    i = cmd.index("--bench")
    return cmd[:i + 1] + ["1"] + cmd[i + 2:]


def run_gc(cmd, cache_dir):
    """gc's figures as a dict: every key=value of gc-run's line (numbers as
    floats), with gc's kernel cache in cache_dir."""
    r = subprocess.run(cmd, capture_output=True, text=True, env=environment({"GC_CACHE_DIR": cache_dir}))
    if r.returncode != 0:
        raise Refused(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr.strip()}")
    for line in reversed(r.stdout.splitlines()):
        pairs = dict(re.findall(r"([A-Za-z_]\w*)=(\S+)", line))
        if "median_ms" in pairs:
            return {k: float(v) if re.fullmatch(r"[-+0-9.eE]+", v) else v for k, v in pairs.items()}
    raise Refused(f"no median_ms in the output of {' '.join(cmd)}:\n{r.stdout}")


# ---- the comparison

def setup_peers(args):
    if args.skip_setup:
        return
    r = subprocess.run(["bash", os.path.join(HERE, "setup.sh")])
    if r.returncode != 0:
        raise Refused("bench/setup.sh could not install the peers' packages (see above)")


def fma_peak():
    """The machine's FMA peak line from ../shared/tools/fma-peak, or None."""
    if not os.access(FMA_PEAK, os.X_OK):
        return None
    r = subprocess.run([FMA_PEAK], capture_output=True, text=True)
    return r.stdout.strip() or None


def gc_mfu(gflops, threads):
    """(MFU, per-core peak): gc's GFLOP/s (its own FLOP count of the step over
    the median time) over threads x one core's FMA peak, measured now by
    fma-peak; (None, None) when fma-peak is missing."""
    line = fma_peak() or ""
    m = re.search(r"fma_peak_gflops_per_core=([0-9.]+)", line)
    if not m:
        return None, None
    threads = threads or len(os.sched_getaffinity(0))   # gc-run's default: the cores available
    return gflops / (threads * float(m.group(1))), float(m.group(1))


def check_blas(probe):
    """Refuses a torch whose BLAS is too slow to be torch at its best."""
    gf = probe["matmul_gflops"]
    if gf >= MIN_MATMUL_GFLOPS:
        return
    why = f"torch's 1024^3 f32 matmul runs at {gf:.1f} GFLOP/s, below {MIN_MATMUL_GFLOPS:g}: its BLAS is {probe['blas']}."
    if "OpenBLAS" in probe["blas"]:
        fix = (f"OpenBLAS is in place, so the machine is busy (load average {os.getloadavg()[0]:.1f}) or "
               f"OpenBLAS is held back (OPENBLAS_NUM_THREADS, OPENBLAS_CORETYPE): run again when it is idle.")
    else:
        fix = ("Timing torch on it would compare gc with a slowed peer.  Fix: install OpenBLAS and make it "
               "libblas.so.3, as root:\n"
               "  apt-get install libopenblas0-pthread   (bench/setup.sh does it)\n"
               "  update-alternatives --auto libblas.so.3-x86_64-linux-gnu")
    raise Refused(f"{why}\n{fix}")


def progress(msg):
    print(msg, file=sys.stderr, flush=True)


class OthersLoad:
    """How busy other processes kept the CPUs while a child of ours ran: the
    busy time in /proc/stat minus our children's CPU time, as a share of all
    CPUs (0.0 on an idle machine).  Timings taken at a high share are noise."""

    def __enter__(self):
        self.start = self._sample()
        return self

    def __exit__(self, *exc):
        busy, children, wall = (b - a for a, b in zip(self.start, self._sample()))
        self.share = max(0.0, busy - children) / (wall * os.cpu_count()) if wall > 0 else 0.0

    @staticmethod
    def _sample():
        import resource
        with open("/proc/stat") as f:
            t = [int(x) for x in f.readline().split()[1:]]
        hz = os.sysconf("SC_CLK_TCK")
        busy = (sum(t[:8]) - t[3] - t[4]) / hz          # all but idle and iowait
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return busy, r.ru_utime + r.ru_stime, time.monotonic()


def choose_blas(args, rounds=3):
    """Measures torch's matmul in each BLAS environment (default setup; `rounds`
    processes each, alternating, best kept, so a busy moment does not decide),
    prints each, and returns (probe, environment change, description) of the fastest."""
    envs = blas_environments()
    probes = {name: None for name in envs}
    for _ in range(rounds if len(envs) > 1 else 1):
        for name, change in envs.items():
            p = run_worker(args, DEFAULT_SETUP, 0, change, probe=True)
            if probes[name] is None or p["matmul_gflops"] > probes[name]["matmul_gflops"]:
                probes[name] = p
    for name, p in probes.items():
        print(f"torch 1024^3 f32 matmul: {p['matmul_gflops']:6.1f} GFLOP/s  {name}")
        print(f"  BLAS: {p['blas']}")
    best = max(probes, key=lambda n: probes[n]["matmul_gflops"])
    if len(envs) > 1:
        print(f"  kept: {best}")
    return probes[best], envs[best], best


def compile_cold(gc_cmd, cache_dir):
    """gc's untimed run with its kernel cache empty: its figures."""
    g = run_gc(cold_command(gc_cmd), cache_dir)
    progress(f"  gc, cold (empty kernel cache {cache_dir}): compile {g['compile_ms']:.0f} ms"
             + (f", {g['compiled']:.0f} kernels compiled" if "compiled" in g else ""))
    return g


def measure(args, gc_cmd, blas_env, cache_dir):
    """--runs repetitions of every torch setup and gc (its kernel cache in
    cache_dir): {setup: [worker dict...]}, [gc dict...], and the others' load
    during each measurement."""
    torch_runs = {s: [] for s in SETUPS}
    gc_runs, loads = [], []
    for run in range(1, args.runs + 1):
        for setup in SETUPS:
            with OthersLoad() as load:
                out = run_worker(args, setup, args.steps, blas_env)
            torch_runs[setup].append(out)
            progress(f"  run {run}/{args.runs}: torch {setup} ({out['threads']} thread{'s' if out['threads'] > 1 else ''}): "
                     f"{out['median_ms']:.1f} ms/step (min {out['min_ms']:.1f}), peak RSS {out['peak_rss_mb']:.0f} MB, "
                     f"loss check {out['loss_rel_err']:.2g}, others' load {load.share:.0%}")
            loads.append(load.share)
        with OthersLoad() as load:
            g = run_gc(gc_cmd, cache_dir)
        gc_runs.append(g)
        loads.append(load.share)
        progress(f"  run {run}/{args.runs}: gc: {g['median_ms']:.1f} ms/step, peak RSS {g['peak_rss_mb']:.0f} MB, "
                 f"compile {g['compile_ms']:.0f} ms, others' load {load.share:.0%}")
    return torch_runs, gc_runs, loads


def median_figures(runs):
    """Per key, the median over runs of gc's numeric figures."""
    keys = [k for k, v in runs[0].items() if isinstance(v, float)]
    return {k: statistics.median(r[k] for r in runs if k in r) for k in keys}


def report(args, torch_runs, gc_runs, gc_cold, loads, gc_desc, blas_name):
    tokens = args.batch * args.seq
    torch_ms = {s: [r["median_ms"] for r in v] for s, v in torch_runs.items()}
    medians = {s: statistics.median(v) for s, v in torch_ms.items()}
    best = min(medians, key=medians.get)
    pt_rss = statistics.median(r["peak_rss_mb"] for r in torch_runs[best])
    print(f"\n{args.model}, batch {args.batch} x seq {args.seq}: median over {args.runs} runs "
          f"of the median of {args.steps} steps after {args.warmup} warm-up")
    width = max(map(len, medians))
    for s, ms in medians.items():
        runs = ", ".join(f"{x:.1f}" for x in torch_ms[s])
        print(f"  torch, {s:{width}s} {ms:8.1f} ms/step   (runs: {runs}){'   <- kept' if s == best else ''}")
    gc = median_figures(gc_runs)
    gc_ms, pt_ms, gc_rss = gc["median_ms"], medians[best], gc["peak_rss_mb"]
    extra = "  ".join(f"{k}={v:g}" for k, v in gc.items() if k != "median_ms")
    print(f"\n  {'':8s} {'ms/step':>10s} {'tokens/s':>10s} {'peak RSS MB':>12s}")
    print(f"  {'gc':8s} {gc_ms:10.1f} {tokens / gc_ms * 1e3:10.0f} {gc_rss:12.0f}   {gc_desc}")
    print(f"  {'torch':8s} {pt_ms:10.1f} {tokens / pt_ms * 1e3:10.0f} {pt_rss:12.0f}   "
          f"{best}{'; ' + blas_name if blas_name else ''}")
    if not all(r.get("rss_reset") for r in torch_runs[best]):
        print("  (torch's peak RSS includes its loss check: /proc/self/clear_refs could not reset it)")
    if extra:
        print(f"  gc's figures: {extra}")
    cold_ms, warm_ms = gc_cold["compile_ms"], gc["compile_ms"]
    counts = (lambda g: f" ({g['compiled']:.0f} kernels compiled, {g['cached']:.0f} from the cache)"
              if "compiled" in g else "")
    print(f"  gc's compile: cold {cold_ms:.0f} ms{counts(gc_cold)}, warm {warm_ms:.0f} ms{counts(gc)}")
    if "gflops" in gc:
        print(f"  by gc's FLOP count: gc {gc['gflops']:.1f} GFLOP/s, torch {gc['gflops'] * gc_ms / pt_ms:.1f} GFLOP/s")
    mfu, core_peak = gc_mfu(gc["gflops"], args.threads) if "gflops" in gc else (None, None)
    if mfu is not None:
        print(f"  gc's model FLOP utilisation: {mfu:.2f} of {args.threads or len(os.sched_getaffinity(0))} "
              f"x {core_peak:g} GFLOP/s (fma-peak, measured after the timing)")
    noisy = "  (noisy: run again on an idle machine)" if max(loads) > 0.10 else ""
    print(f"  other processes kept the CPUs {statistics.median(loads):.0%} busy while timing "
          f"(median; max {max(loads):.0%}){noisy}")
    faster = f"gc is {pt_ms / gc_ms:.2f}x as fast as torch" if gc_ms <= pt_ms else \
        f"gc is {gc_ms / pt_ms:.1f}x slower than torch"
    print(f"  {faster}")
    print(f"gc_ms={gc_ms:.2f} torch_ms={pt_ms:.2f} ratio={pt_ms / gc_ms:.4f} "
          f"gc_tokens_s={tokens / gc_ms * 1e3:.0f} torch_tokens_s={tokens / pt_ms * 1e3:.0f} "
          f"gc_rss_mb={gc_rss:.1f} torch_rss_mb={pt_rss:.1f} "
          f"compile_cold_ms={cold_ms:.1f} compile_warm_ms={warm_ms:.1f}"
          f"{f' gc_mfu={mfu:.3f}' if mfu is not None else ''}")


def compare(args):
    sys.stdout.reconfigure(line_buffering=True)   # in order with the progress lines on stderr
    setup_peers(args)
    peak = fma_peak()
    print(f"machine: {peak}  ({os.path.normpath(FMA_PEAK)})" if peak else
          f"machine: FMA peak unknown ({os.path.normpath(FMA_PEAK)} not found)")
    probe, blas_env, blas_name = choose_blas(args)
    print(f"torch {probe['torch']}, {probe['threads']} thread{'s' if probe['threads'] > 1 else ''} by default")
    check_blas(probe)
    check = run_worker(args, DEFAULT_SETUP, 0, blas_env)    # refuses a model that disagrees
    print(f"loss check ({args.model}, f32, same weights and batch): fast model {check['fast_loss']:.7f}, "
          f"reference {check['ref_loss']:.7f}, relative difference {check['loss_rel_err']:.2g} "
          f"(<= {LOSS_TOL:g}: ok)")
    gc_cmd, gc_desc = gc_command(args)
    print(f"gc: {gc_desc}: {' '.join(os.path.relpath(gc_cmd[0]) if i == 0 else a for i, a in enumerate(gc_cmd))}")
    cache_dir = tempfile.mkdtemp(prefix="gc-bench-cache-")
    try:
        gc_cold = compile_cold(gc_cmd, cache_dir)
        torch_runs, gc_runs, loads = measure(args, gc_cmd, blas_env, cache_dir)
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    report(args, torch_runs, gc_runs, gc_cold, loads, gc_desc, blas_name)


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="One training step (forward, loss, backward, clip 1.0, AdamW) of gc against "
                    "PyTorch in its fastest setup on this machine: ms/step, tokens/s, peak RSS, and gc's "
                    "compile time cold and warm.  Ends with gc_ms=... torch_ms=... ratio=torch_ms/gc_ms "
                    "gc_tokens_s=... torch_tokens_s=... gc_rss_mb=... torch_rss_mb=... "
                    "compile_cold_ms=... compile_warm_ms=... gc_mfu=... (gc's FLOP count over its time over "
                    "threads x fma-peak's one-core peak).")
    p.add_argument("--model", default="qwen2_tiny", help="model preset (default qwen2_tiny; "
                   "torch side: qwen2_* and gpt2*)")
    p.add_argument("--batch", type=int, default=8, help="batch size (default 8)")
    p.add_argument("--seq", type=int, default=128, help="sequence length (default 128)")
    p.add_argument("--steps", type=int, default=10, help="timed steps per measurement (default 10)")
    p.add_argument("--warmup", type=int, default=2, help="untimed torch steps first (default 2; "
                   "gc-run --bench does its own warm-up run)")
    p.add_argument("--runs", type=int, default=3, help="repeat the whole measurement, report medians (default 3)")
    p.add_argument("--backend", help="gc's backend, passed to gc-run (interp, llvm)")
    p.add_argument("--threads", type=int, default=0, help="gc's threads, passed to gc-run (default: the cores)")
    p.add_argument("--skip-setup", action="store_true", help="do not run bench/setup.sh (packages are in place)")
    p.add_argument("--worker", choices=list(SETUPS), help=argparse.SUPPRESS)
    p.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if min(args.batch, args.seq, args.runs) < 1 or args.steps < 0 or args.warmup < 0 or \
            (not args.worker and args.steps < 1):
        p.error("--batch, --seq, --runs and --steps must be positive, --warmup not negative")
    return args


def main(argv):
    args = parse_args(argv)
    try:
        if args.worker:
            worker(args)
        else:
            compare(args)
    except Refused as e:
        print(f"train_step_vs_torch: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
