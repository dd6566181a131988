#!/usr/bin/env python3
"""gc-run on hand-written graphs against an independent implementation of
docs/ir.md (tests/reference/ir_torch.py, on PyTorch).

Every graph in tests/tools/ir_graphs/*.gcir (between them: every op of the
IR, and softmax, log-softmax, layer and RMS norm, GELU, SiLU, cross-entropy
with ignored labels, causal masked attention, an MLP, an SGD update) gets
random params and inputs (fixed seed; a `# gen: ...` comment on an input or
param line says how to draw it) and runs through

  gc-run G --params P --inputs I --out O            f64, and f32 (the text
                                                    with f64 replaced by f32)
  gc-run G ... --grad loss                          f64, if there is a "loss"

(each also with --backend llvm once gc-run has that backend).

Every output and updated param is compared with the reference:
max |gc - ref| / max(max |ref|, FLOOR) within 1e-10 (f64) or 1e-5 (f32);
integers and bools exactly; non-finite values must sit at the same places.
Every grad.<param> is compared with torch autograd within 1e-9.  The f32
reference computes in double and rounds every value to f32 (f32 storage,
exact arithmetic), so discrete ops (casts, compares, argmax) see the same f32
values gc does.  FLOOR (1e-3) keeps values that are zero in theory from being
judged by rounding noise; the graphs' values are of order 1.

rand_uniform is gc's own generator: its outputs are checked for shape, dtype,
range [0, 1), a plausible mean, determinism and dependence on the seed.

Error behaviour: an out-of-range gather / scatter_add index makes gc-run exit
1 with a message naming the index; a missing or mistyped param or input is
named.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import ir_torch  # noqa: E402
import safetensors_np  # noqa: E402

BIN = os.environ.get("GC_BIN_DIR", os.path.join(HERE, "..", "..", "build", "bin"))
GRAPHS = os.path.join(HERE, "ir_graphs")
TOL = {"f64": 1e-10, "f32": 1e-5}
GRAD_TOL = 1e-9
FLOOR = 1e-3
NP = {"f32": np.float32, "f64": np.float64, "i32": np.int32, "i64": np.int64, "bool": np.bool_}


# ---- inputs ----------------------------------------------------------------

class Gen:
    """The `# gen:` vocabulary: each draws an array of the given shape."""

    def __init__(self, rng, shape):
        self.rng, self.shape = rng, shape

    def normal(self, scale=1.0):
        return self.rng.standard_normal(self.shape) * scale

    def uniform(self, lo, hi):
        return self.rng.uniform(lo, hi, self.shape)

    def randint(self, lo, hi):
        return self.rng.integers(lo, hi, self.shape)

    def bernoulli(self, p):
        return self.rng.random(self.shape) < p

    def values(self, vals):
        return np.array(vals, dtype=np.float64).reshape(self.shape)


def gen_specs(text):
    """{tensor name: gen expression} from `# gen:` comments."""
    out = {}
    for m in re.finditer(r'(?:input|param)\s+"([^"]+)"[^#\n]*#\s*gen:\s*(.*)', text):
        out[m.group(1)] = m.group(2).strip()
    return out


def make_tensors(graph, text, seed):
    """Params and inputs as numpy arrays of their declared dtypes."""
    rng = np.random.default_rng(seed)
    specs = gen_specs(text)
    made = {}
    for kind in ("param", "input"):
        for name, node in graph.sources(kind).items():
            g = Gen(rng, node.shape)
            spec = specs.get(name)
            if spec:
                names = {k: getattr(g, k) for k in dir(Gen) if not k.startswith("_")}
                arr = eval(spec, {"__builtins__": {}}, dict(names, nan=float("nan"), inf=float("inf")))
            elif node.dtype == "bool":
                arr = g.bernoulli(0.5)
            elif node.dtype in ("i32", "i64"):
                arr = g.randint(-5, 5)
            else:
                arr = g.normal()
            with np.errstate(over="ignore"):  # -1e300 is -inf in f32
                made.setdefault(kind, {})[name] = np.asarray(arr).astype(NP[node.dtype])
    return made.get("param", {}), made.get("input", {})


# ---- running gc ------------------------------------------------------------

def run_gc(graph_path, params, inputs, d, grad=None, param_file=None, backend=None):
    """(returncode, stderr, outputs or None)."""
    pp = param_file or os.path.join(d, "p.safetensors")
    ip, op = os.path.join(d, "i.safetensors"), os.path.join(d, "o.safetensors")
    if param_file is None:
        safetensors_np.write(pp, params)
    safetensors_np.write(ip, inputs)
    if os.path.exists(op):
        os.remove(op)
    cmd = [os.path.join(BIN, "gc-run"), graph_path, "--params", pp, "--inputs", ip, "--out", op]
    if grad:
        cmd += ["--grad", grad]
    if backend:
        cmd += ["--backend", backend]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    got = safetensors_np.read(op) if r.returncode == 0 and os.path.exists(op) else None
    return r.returncode, r.stderr, got


# ---- comparing -------------------------------------------------------------

def compare(name, got, ref, dt, tol):
    """A failure message, or None; and the relative error."""
    if got is None:
        return f"{name}: missing from gc-run's output", 0.0
    if got.dtype != ref.dtype:
        return f"{name}: dtype {got.dtype}, expected {ref.dtype}", 0.0
    if got.shape != ref.shape:
        return f"{name}: shape {got.shape}, expected {ref.shape}", 0.0
    if dt not in ("f32", "f64"):
        bad = np.flatnonzero(got.reshape(-1) != ref.reshape(-1))
        if bad.size:
            i = bad[0]
            return (f"{name}: {bad.size} elements differ, first at flat index {i}: "
                    f"got {got.reshape(-1)[i]}, expected {ref.reshape(-1)[i]}"), 0.0
        return None, 0.0
    g, r = got.astype(np.float64).reshape(-1), ref.astype(np.float64).reshape(-1)
    fin = np.isfinite(r)
    same_nonfinite = np.array_equal(g[~fin], r[~fin], equal_nan=True)
    if not same_nonfinite or not np.all(np.isfinite(g[fin])):
        i = np.flatnonzero(~((g == r) | (np.isnan(g) & np.isnan(r))) & ~(fin & np.isfinite(g)))[0]
        return f"{name}: non-finite mismatch at flat index {i}: got {g[i]}, expected {r[i]}", 0.0
    if not fin.any():
        return None, 0.0
    diff = np.abs(g[fin] - r[fin])
    e = float(diff.max()) / max(float(np.abs(r[fin]).max()), FLOOR)
    if not e <= tol:
        i = np.flatnonzero(fin)[int(diff.argmax())]
        return (f"{name}: relative error {e:.3g} > {tol:g} (worst at flat index {i}: "
                f"got {g[i]!r}, expected {r[i]!r})"), e
    return None, e


def check_rand(name, got, node):
    if got is None:
        return f"{name}: missing from gc-run's output"
    if got.shape != node.shape or got.dtype != NP[node.dtype]:
        return f"{name}: {got.dtype}{list(got.shape)}, expected {node.dtype}{list(node.shape)}"
    if not (np.all(got >= 0) and np.all(got < 1)):
        return f"{name}: values outside [0, 1): min {got.min()}, max {got.max()}"
    mean, n = float(got.mean()), got.size
    if abs(mean - 0.5) > 5 * (1 / 12 / n) ** 0.5 or len(np.unique(got)) < 0.99 * n:
        return f"{name}: implausible uniform sample (mean {mean:.4f}, {len(np.unique(got))} distinct of {n})"
    return None


def check_run(label, graph, dt, got, params, inputs, grad):
    """Failure messages for one gc-run result against the reference."""
    fails = []
    tp = {k: torch.from_numpy(v) for k, v in params.items()}
    ti = {k: torch.from_numpy(v) for k, v in inputs.items()}
    ev = ir_torch.Evaluator(f32_in_f64=True)
    outs, ups = ev.evaluate(graph, tp, ti)
    nodes = dict(graph.outputs)
    expected = set(outs) | set(ups)
    if grad:
        gref = ev.gradients(graph, tp, ti, grad)
        expected |= {"grad." + k for k in gref}
    extra = set(got) - expected
    if extra:
        fails.append(f"unexpected tensors in the output: {sorted(extra)}")
    worst, n = ("", 0.0), 0
    items = [(k, v, nodes[k].dtype, TOL[dt]) for k, v in outs.items()]
    items += [(k, v, graph.sources("param")[k].dtype, TOL[dt]) for k, v in ups.items()]
    if grad:
        items += [("grad." + k, v, graph.sources("param")[k].dtype, GRAD_TOL) for k, v in gref.items()]
    for k, ref, kdt, tol in items:
        n += 1
        if k in nodes and nodes[k].op == "rand_uniform":
            msg = check_rand(k, got.get(k), nodes[k])
            if msg:
                fails.append(msg)
            continue
        msg, e = compare(k, got.get(k), ref.numpy(), kdt, tol)
        if msg:
            fails.append(msg)
        if e > worst[1]:
            worst = (k, e)
    print(f"{label}: {n} tensors, worst {worst[0] or '-'} {worst[1]:.3g}: {'ok' if not fails else 'FAIL'}")
    return fails


# ---- the checks ------------------------------------------------------------

def llvm_available(d):
    """Whether gc-run --backend llvm runs (it may not be built yet)."""
    path = os.path.join(d, "probe.gcir")
    with open(path, "w") as f:
        f.write('graph @probe {\n  %c = const 1.0 : f64[2]\n  output "c" = %c\n}\n')
    rc, err, _ = run_gc(path, {}, {}, d, backend="llvm")
    return rc == 0


def graph_checks(path, d, backends):
    """[(label, failures)] for one graph file: f64, f64 --grad, f32, each
    on every backend."""
    stem = os.path.splitext(os.path.basename(path))[0]
    text64 = open(path).read()
    results = []
    variants = [("f64", text64)]
    if "f64" in text64:
        variants.append(("f32", text64.replace("f64", "f32")))
    for dt, text in variants:
        graph = ir_torch.parse(text)
        gpath = os.path.join(d, f"{stem}.{dt}.gcir")
        with open(gpath, "w") as f:
            f.write(text)
        params, inputs = make_tensors(graph, text, zlib.crc32(stem.encode()))
        has_loss = "loss" in dict(graph.outputs)
        modes = [None] + (["loss"] if dt == "f64" and has_loss else [])
        for grad, backend in ((g, b) for b in backends for g in modes):
            label = f"{stem} {dt}" + (" --grad loss" if grad else "") + (f" --backend {backend}" if backend else "")
            try:
                rc, err, got = run_gc(gpath, params, inputs, d, grad, backend=backend)
                if rc != 0:
                    fails = [f"gc-run exit {rc}: {err.strip()}"]
                    print(f"{label}: FAIL")
                else:
                    fails = check_run(label, graph, dt, got, params, inputs, grad)
                    if stem == "rand" and not grad and not backend:
                        fails += rand_extra(gpath, params, inputs, d, got)
            except Exception as e:  # a crash of the check is a failed check
                fails = [f"{type(e).__name__}: {e}"]
                print(f"{label}: FAIL")
            results.append((label, fails))
    return results


def rand_extra(gpath, params, inputs, d, got):
    """Same seed and counter: same bits; another seed or counter: others."""
    fails = []
    rc, err, again = run_gc(gpath, params, inputs, d)
    if rc != 0 or not all(np.array_equal(again[k], got[k]) for k in got):
        fails.append("rand_uniform: a second run gives different values")
    if np.array_equal(got["r"], got["r2"]):
        fails.append("rand_uniform: seeds 7 and 8 give the same values")
    inputs2 = dict(inputs, ctr=np.array(4, dtype=np.int64))
    rc, err, other = run_gc(gpath, params, inputs2, d)
    if rc != 0 or np.array_equal(other["r"], got["r"]):
        fails.append("rand_uniform: counters 3 and 4 give the same values")
    print(f"rand: determinism and seed/counter dependence: {'ok' if not fails else 'FAIL'}")
    return fails


def error_checks(d):
    """[(label, failures)]: gc-run's run-time errors name what is wrong."""
    results = []

    def expect_error(label, stem, change, needles, want_rc=1, drop_param=None, retype=None):
        text = open(os.path.join(GRAPHS, stem + ".gcir")).read()
        graph = ir_torch.parse(text)
        params, inputs = make_tensors(graph, text, zlib.crc32(stem.encode()))
        inputs = {k: v for k, v in dict(inputs, **change).items() if v is not None}
        if drop_param:
            params = {k: v for k, v in params.items() if k != drop_param}
        if retype:
            params = dict(params, **retype)
        fails = []
        # the reference refuses it too
        try:
            ir_torch.evaluate(graph, {k: torch.from_numpy(v) for k, v in params.items()},
                              {k: torch.from_numpy(v) for k, v in inputs.items()})
            if not retype:
                fails.append("the reference accepted it")
        except ir_torch.IRError:
            pass
        rc, err, _ = run_gc(os.path.join(GRAPHS, stem + ".gcir"), params, inputs, d)
        if rc != want_rc if want_rc is not None else rc == 0:
            fails.append(f"exit {rc}, expected {want_rc if want_rc is not None else 'non-zero'}")
        for needle in needles:
            if needle not in err:
                fails.append(f"message does not name {needle!r}: {err.strip()!r}")
        if not err.strip():
            fails.append("no message on stderr")
        print(f"error {label}: {'ok' if not fails else 'FAIL'} ({err.strip().splitlines()[-1] if err.strip() else ''})")
        results.append(("error " + label, fails))

    expect_error("gather index 7 of 6 (axis 1, i64)", "gather",
                 {"i1": np.array([3, 7, 0, -1, 3], dtype=np.int64)}, ["7"])
    expect_error("gather index -7 of 6 (axis 0, i32)", "gather",
                 {"i0": np.array([[0, -1, 5], [-7, 2, 2]], dtype=np.int32)}, ["-7"])
    expect_error("scatter_add index 4 of 4", "scatter",
                 {"i": np.array([1, 3, 4, 1, -1], dtype=np.int64)}, ["4"])
    expect_error("missing param", "mlp", {}, ["fc2.bias"], want_rc=None, drop_param="fc2.bias")
    expect_error("mistyped param", "mlp", {}, ["fc1.weight"], want_rc=None,
                 retype={"fc1.weight": np.zeros((8, 5), dtype=np.float32)})
    expect_error("missing input", "cross_entropy", {"labels": None}, ["labels"], want_rc=None)
    return results


def main():
    passed = failed = 0
    with tempfile.TemporaryDirectory() as d:
        results = []
        backends = [None] + (["llvm"] if llvm_available(d) else [])
        print(f"backends: interp{', llvm' if len(backends) > 1 else ' (llvm not available)'}")
        for path in sorted(glob.glob(os.path.join(GRAPHS, "*.gcir"))):
            results += graph_checks(path, d, backends)
        results += error_checks(d)
    for label, fails in results:
        for f in fails:
            print(f"  FAIL {label}: {f}")
        passed += not fails
        failed += bool(fails)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
