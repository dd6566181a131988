#!/usr/bin/env python3
"""One training step (forward, loss, backward, AdamW) of a tiny model: gc's
interpreter against PyTorch (Debian's python3-torch, the reference model of
tests/reference/hf_models.py) on the same shapes, side by side, as a ratio.

    /usr/bin/python3 bench/train_step_vs_torch.py [MODEL] [BATCH] [SEQ] [STEPS]

Both use every core torch and gc use by default (gc's interpreter: one).
Quote medians of several runs: the machine is shared and noisy.
"""
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "models"))

import torch  # noqa: E402

import hf_models  # noqa: E402
from test_hf_reference import make_weights  # noqa: E402

BIN = os.environ.get("GC_BIN_DIR", os.path.join(HERE, "..", "build", "bin"))


def torch_step_ms(model, B, T, steps):
    cfg = hf_models.CONFIGS[model]
    gen = torch.Generator().manual_seed(0)
    w = {k: v.requires_grad_(True) for k, v in make_weights(cfg, torch.float32, gen).items()}
    ids = torch.randint(0, cfg["vocab_size"], (B, T), generator=gen)
    inputs = {"input_ids": ids, "labels": ids.clone(), "attention_mask": torch.ones_like(ids)}
    if cfg["arch"] == "t5":
        inputs["labels"] = ids.clone()
    opt = torch.optim.AdamW(list(w.values()), lr=1e-3)
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss, _ = hf_models.forward(cfg, w, inputs)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(w.values()), 1.0)
        opt.step()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def main():
    model = sys.argv[1] if len(sys.argv) > 1 else "qwen2_tiny"
    B, T, steps = (int(x) for x in (sys.argv[2:5] + ["8", "64", "7"][len(sys.argv[2:5]):]))
    out = subprocess.run([os.path.join(BIN, "bench_train_step"), model, str(B), str(T), str(steps)],
                         capture_output=True, text=True, check=True).stdout
    gc_ms = float(re.search(r"median ([0-9.]+) ms", out).group(1))
    pt_ms = torch_step_ms(model, B, T, steps)
    tokens = B * T
    print(f"{model}, batch {B} x seq {T}, median of {steps} steps (torch threads: {torch.get_num_threads()})")
    print(f"  gc interp : {gc_ms:8.1f} ms/step  {tokens / gc_ms * 1e3:9.0f} tokens/s")
    print(f"  pytorch   : {pt_ms:8.1f} ms/step  {tokens / pt_ms * 1e3:9.0f} tokens/s")
    print(f"  gc / torch time ratio: {gc_ms / pt_ms:.2f}x")


if __name__ == "__main__":
    main()
