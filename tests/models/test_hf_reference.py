#!/usr/bin/env python3
"""gc's model graphs against an independent PyTorch implementation of the
Hugging Face definitions (tests/reference/hf_models.py).

For each tiny model, in f64 and f32: random weights and inputs under HF names
go to safetensors files, `gc-run model:NAME --grad loss` computes loss, logits
and every gradient, and each is compared with PyTorch's autograd:
max |gc - ref| / max(max |ref|, FLOOR) within 1e-8 (f64) or 1e-4 (f32).

The reference always runs in f64 (for the f32 check, on the same f32 weights
widened): PyTorch's own f32 result strays up to 3e-4 from the exact answer on
these weights, while gc's f32 (which accumulates sums in double) stays within
6e-5, so comparing two f32 results would measure PyTorch's rounding.  FLOOR
(1e-6 in f64, 1e-4 in f32: far below the gradients' typical size of 1e-2 to 1)
keeps gradients that are exactly zero in theory (BERT's key biases: softmax
ignores a constant shift) from being judged by rounding noise.  Such a
gradient is nothing but rounding noise, and in f32 that noise can exceed the
floor for PyTorch's own f32 too (1.6e-8 against an exact 0 for bert_tiny's
last key bias); so an f32 tensor also passes when gc's error is at most
twice PyTorch's own f32 error on it, measured in the same run.

Every check runs on each backend (`gc-run --backend NAME`): interp and llvm,
or the ones named by --backend NAME (repeatable); the reference is computed
once per model and dtype and every backend is held to the same tolerance.
llvm runs the f64 checks only (add --all-dtypes for f32 too): its f32 is
checked against the interpreter's, to 1e-5, by tests/models/test_models.c,
and its f32 sums are f32 sums (the interpreter's accumulate in double), so
on a gradient that is zero in theory its rounding noise is PyTorch f32's
kind, not the interpreter's.  The bare-checkpoint check (loading by name)
does not depend on the backend and runs on the first one only.
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import hf_models  # noqa: E402
import safetensors_np  # noqa: E402

BIN = os.environ.get("GC_BIN_DIR", os.path.join(HERE, "..", "..", "build", "bin"))
TOL = {"f64": 1e-8, "f32": 1e-4}
FLOOR = {"f64": 1e-6, "f32": 1e-4}


def make_weights(cfg, dtype, gen):
    w = {}
    for name, shape in hf_models.param_shapes(cfg).items():
        if name.endswith("norm.weight") or "LayerNorm.weight" in name or name.endswith("ln_1.weight") \
                or name.endswith("ln_2.weight") or name.endswith("ln_f.weight"):
            t = 1.0 + 0.1 * torch.randn(shape, generator=gen, dtype=torch.float64)
        elif len(shape) == 1:
            t = 0.1 * torch.randn(shape, generator=gen, dtype=torch.float64)
        else:
            fan_in = shape[-1] if "c_" not in name else shape[0]
            t = torch.randn(shape, generator=gen, dtype=torch.float64) * min(0.2, 1.5 / fan_in ** 0.5)
        w[name] = t.to(dtype)
    return w


def make_inputs(cfg, B, T, Td, gen):
    V = cfg["vocab_size"]
    ids = torch.randint(2, V, (B, T), generator=gen)
    mask = torch.ones(B, T, dtype=torch.long)
    mask[1, T - 3:] = 0  # right padding in the second row
    inputs = {"input_ids": ids, "attention_mask": mask}
    if cfg["arch"] == "bert":
        ids[1, T - 3:] = cfg["pad_token_id"]
        labels = torch.full((B, T), -100, dtype=torch.long)
        pick = torch.rand(B, T, generator=gen) < 0.3
        pick[0, 0] = True
        labels[pick] = torch.randint(0, V, (int(pick.sum()),), generator=gen)
        inputs["token_type_ids"] = (torch.arange(T)[None].expand(B, T) >= T // 2).long()
    elif cfg["arch"] == "t5":
        labels = torch.randint(2, V, (B, Td), generator=gen)
        labels[1, Td - 2:] = -100
    else:
        labels = ids.clone()
        labels[0, 3] = -100
    inputs["labels"] = labels
    return inputs


BACKENDS = ["interp", "llvm"]
DTYPES = {"llvm": ("f64",)}   # the dtypes a backend is checked in, when not all


def run_gc(model, dtype, B, T, Td, params, inputs, out, backend="interp"):
    cmd = [os.path.join(BIN, "gc-run"), f"model:{model}", "--set", f"dtype={dtype}",
           "--batch", str(B), "--seq", str(T), "--params", params, "--inputs", inputs,
           "--out", out, "--grad", "loss", "--backend", backend]
    if Td:
        cmd += ["--dec-seq", str(Td)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr}")


def rel_err(got, ref, floor):
    scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    return float(np.max(np.abs(got - ref))) / max(scale, floor) if ref.size else 0.0


def check(model, dtype, backends):
    """Failures per backend: {backend: [message, ...]}."""
    cfg = hf_models.CONFIGS[model]
    tdt = torch.float64 if dtype == "f64" else torch.float32
    gen = torch.Generator().manual_seed(1234)
    B, T = 2, 12
    Td = 6 if cfg["arch"] == "t5" else 0
    w = make_weights(cfg, tdt, gen)
    inputs = make_inputs(cfg, B, T, Td, gen)
    got = {}
    errors = {}
    with tempfile.TemporaryDirectory() as d:
        pp, ip = (os.path.join(d, n) for n in ("p.safetensors", "i.safetensors"))
        safetensors_np.write(pp, {k: v.numpy() for k, v in w.items()})
        safetensors_np.write(ip, {k: v.numpy().astype(np.int64) for k, v in inputs.items()})
        for backend in backends:
            op = os.path.join(d, f"o-{backend}.safetensors")
            try:
                run_gc(model, dtype, B, T, Td, pp, ip, op, backend)
                got[backend] = safetensors_np.read(op)
            except Exception as e:  # a failed run is a failed check
                errors[backend] = [str(e)]
    leaves = {k: v.to(torch.float64).requires_grad_(True) for k, v in w.items()}
    loss, logits = hf_models.forward(cfg, leaves, inputs)
    loss.backward()
    peer = {}   # PyTorch's own f32 gradients, for tensors that are pure rounding noise
    if dtype == "f32":
        leaves32 = {k: v.clone().requires_grad_(True) for k, v in w.items()}
        hf_models.forward(cfg, leaves32, inputs)[0].backward()
        peer = {"grad." + k: v.grad.numpy().astype(np.float64) for k, v in leaves32.items()}
    refs = [("loss", loss.detach().numpy()), ("logits", logits.detach().numpy())]
    for k, v in leaves.items():
        refs.append(("grad." + k, v.grad.numpy()))
    result = {}
    for backend in backends:
        if backend in errors:
            result[backend] = errors[backend]
            continue
        result[backend] = compare(model, dtype, backend, got[backend], refs, peer, float(loss))
    return result


def compare(model, dtype, backend, got, refs, peer, loss):
    failures = []
    worst = ("", 0.0)
    for name, r in refs:
        g = got.get(name)
        if g is None:
            failures.append(f"{name}: missing from gc-run's output")
            continue
        if g.shape != r.shape:
            failures.append(f"{name}: shape {g.shape}, expected {r.shape}")
            continue
        e = rel_err(g.astype(np.float64), r.astype(np.float64), FLOOR[dtype])
        if not e <= TOL[dtype] and name in peer:
            ref64 = r.astype(np.float64)
            peer_err = float(np.max(np.abs(peer[name] - ref64)))
            if float(np.max(np.abs(g.astype(np.float64) - ref64))) <= 2 * peer_err:
                print(f"  note {model} {dtype} {backend}: {name}: error {e:.3g} is within twice PyTorch f32's own")
                e = 0.0
        if not e <= TOL[dtype]:
            failures.append(f"{name}: relative error {e:.3g} > {TOL[dtype]:g}")
        if e > worst[1]:
            worst = (name, e)
    print(f"{model} {dtype} {backend}: {len(refs)} tensors, loss {loss:.6f}, "
          f"worst {worst[0]} {worst[1]:.3g}: {'ok' if not failures else 'FAIL'}")
    return failures


BARE_PREFIX = {"qwen2": "model.", "gpt2": "transformer.", "bert": "bert."}


def check_bare_checkpoint(model, backend):
    """A bare model's checkpoint (HF's base_model_prefix left out, as the
    hub's gpt2 stores "h.0.attn.c_attn.weight") plus a buffer HF also saves
    loads by name and gives the same loss."""
    cfg = hf_models.CONFIGS[model]
    pre = BARE_PREFIX.get(cfg["arch"])
    if not pre:
        return []
    gen = torch.Generator().manual_seed(5)
    w = make_weights(cfg, torch.float64, gen)
    inputs = make_inputs(cfg, 2, 8, 0, gen)
    bare = {(k[len(pre):] if k.startswith(pre) else k): v.numpy() for k, v in w.items()}
    bare["h.0.attn.bias"] = np.ones((1, 1, 8, 8))  # a causal-mask buffer: ignored with a note
    with tempfile.TemporaryDirectory() as d:
        pp, ip, op = (os.path.join(d, n) for n in ("p.safetensors", "i.safetensors", "o.safetensors"))
        safetensors_np.write(pp, bare)
        safetensors_np.write(ip, {k: v.numpy().astype(np.int64) for k, v in inputs.items()})
        run_gc(model, "f64", 2, 8, 0, pp, ip, op, backend)
        got = float(safetensors_np.read(op)["loss"])
    ref = float(hf_models.forward(cfg, w, inputs)[0])
    ok = abs(got - ref) <= 1e-10 * abs(ref)
    print(f"{model} bare checkpoint (no '{pre}'): loss {got:.10f} vs {ref:.10f}: {'ok' if ok else 'FAIL'}")
    return [] if ok else [f"bare checkpoint loss {got} != {ref}"]


def main():
    args = sys.argv[1:]
    backends = []
    while "--backend" in args:
        i = args.index("--backend")
        backends.append(args[i + 1])
        del args[i:i + 2]
    backends = backends or BACKENDS
    all_dtypes = "--all-dtypes" in args
    args = [a for a in args if a != "--all-dtypes"]
    models = args or hf_models.TINY
    passed = failed = 0
    for m in models:
        for dt in ("f64", "f32"):
            on = [b for b in backends if all_dtypes or dt in DTYPES.get(b, (dt,))]
            if not on:
                continue
            try:
                result = check(m, dt, on)
            except Exception as e:  # a failed reference is a failed check everywhere
                result = {b: [str(e)] for b in on}
            for backend, fails in result.items():
                for f in fails:
                    print(f"  FAIL {m} {dt} {backend}: {f}")
                passed += not fails
                failed += bool(fails)
        try:
            fails = check_bare_checkpoint(m, backends[0])
        except Exception as e:
            fails = [str(e)]
        for f in fails:
            print(f"  FAIL {m} bare: {f}")
        if BARE_PREFIX.get(hf_models.CONFIGS[m]["arch"]):
            passed += not fails
            failed += bool(fails)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
