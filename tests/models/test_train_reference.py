#!/usr/bin/env python3
"""`gc-run model:NAME --train`, run step after step, follows an independent
training loop: the PyTorch reference model (tests/reference/hf_models.py),
torch.optim.AdamW with weight decay on params of rank >= 2 only, a LambdaLR
linear-warmup + cosine schedule and clip_grad_norm_.  Every step's loss must
agree within 1e-3 relative over 20 steps (f32), and the final weights closely.
"""
import math
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import hf_models  # noqa: E402
import safetensors_np  # noqa: E402
from test_hf_reference import make_inputs, make_weights  # noqa: E402

BIN = os.environ.get("GC_BIN_DIR", os.path.join(HERE, "..", "..", "build", "bin"))
STEPS, B, T = 20, 4, 16
HP = dict(lr=3e-3, beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1, warmup=5, decay_steps=20,
          min_lr=3e-4, clip=1.0)


def lr_at(s):  # s is 1-based
    if s <= HP["warmup"]:
        return HP["lr"] * s / HP["warmup"]
    p = min(1.0, (s - HP["warmup"]) / (HP["decay_steps"] - HP["warmup"]))
    return HP["min_lr"] + (HP["lr"] - HP["min_lr"]) * 0.5 * (1 + math.cos(math.pi * p))


def reference(cfg, w0, batches):
    w = {k: v.clone().requires_grad_(True) for k, v in w0.items()}
    decay = [v for v in w.values() if v.dim() >= 2]
    no_decay = [v for v in w.values() if v.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": HP["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=HP["lr"], betas=(HP["beta1"], HP["beta2"]), eps=HP["eps"])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: lr_at(i + 1) / HP["lr"])
    losses = []
    for inputs in batches:
        opt.zero_grad()
        loss, _ = hf_models.forward(cfg, w, inputs)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(w.values()), HP["clip"])
        opt.step()
        sched.step()
        losses.append(float(loss))
    return losses, {k: v.detach().numpy() for k, v in w.items()}


def gc_loop(model, d, w0, batches):
    params = os.path.join(d, "p0.safetensors")
    safetensors_np.write(params, {k: v.numpy() for k, v in w0.items()})
    settings = ",".join(f"{k}={v}" for k, v in HP.items())
    losses = []
    for i, inputs in enumerate(batches):
        ip, out = os.path.join(d, f"i{i}.safetensors"), os.path.join(d, f"p{i + 1}.safetensors")
        safetensors_np.write(ip, {k: v.numpy().astype(np.int64) for k, v in inputs.items()})
        cmd = [os.path.join(BIN, "gc-run"), f"model:{model}", "--train", "--set", settings,
               "--params", params, "--inputs", ip, "--out", out]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"step {i + 1}: {' '.join(cmd)}:\n{r.stderr}")
        o = safetensors_np.read(out)
        losses.append(float(o["loss"]))
        params = out
    return losses, safetensors_np.read(params)


def main():
    model = sys.argv[1] if len(sys.argv) > 1 else "qwen2_tiny"
    cfg = hf_models.CONFIGS[model]
    gen = torch.Generator().manual_seed(99)
    w0 = make_weights(cfg, torch.float32, gen)
    batches = [make_inputs(cfg, B, T, 0, gen) for _ in range(STEPS)]
    ref_losses, ref_w = reference(cfg, w0, batches)
    with tempfile.TemporaryDirectory() as d:
        gc_losses, gc_w = gc_loop(model, d, w0, batches)
    failed = 0
    for i, (a, r) in enumerate(zip(gc_losses, ref_losses)):
        e = abs(a - r) / abs(r)
        ok = e <= 1e-3
        failed += not ok
        print(f"step {i + 1:2d}: gc {a:.6f}  torch {r:.6f}  rel {e:.2e}  lr {lr_at(i + 1):.2e} {'ok' if ok else 'FAIL'}")
    worst = max(float(np.max(np.abs(gc_w[k] - v))) / max(float(np.max(np.abs(v))), 1e-6) for k, v in ref_w.items())
    print(f"final weights: worst relative difference {worst:.2e}")
    if not worst <= 1e-2:
        failed += 1
        print("FAIL: final weights differ")
    print(f"{STEPS + 1 - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
