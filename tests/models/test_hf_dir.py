#!/usr/bin/env python3
"""Hugging Face model directories (models/hf_dir.c) against the PyTorch
reference: a random-weight Qwen2 directory as Qwen2.5 ships (vocab 151,936,
tied embeddings, BF16, two shards and their index) and a GPT-2 directory as
the hub's original gpt2 (no "transformer." prefix, the attn.bias buffers, F32).
`gc-run model:DIR --inputs I -o O` must give the reference's logits and loss
(f32, 1e-4 relative to the largest logit); a directory with a missing, an
unexpected or a misshapen tensor, or only pytorch_model.bin, is one line
naming it, exit 2.
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import hf_dir  # noqa: E402
import hf_models  # noqa: E402
import safetensors_np  # noqa: E402

BIN = os.environ.get("GC_BIN_DIR", os.path.join(HERE, "..", "..", "build", "bin"))
TOL = 1e-4

QWEN = dict(arch="qwen2", vocab_size=151936, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, hidden_act="silu", max_position_embeddings=512,
            rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=True, use_sliding_window=False,
            sliding_window=None, max_window_layers=2, rope_scaling=None, attention_dropout=0.0,
            bos_token_id=151643, eos_token_id=151643, initializer_range=0.02, use_cache=True)
GPT2 = dict(arch="gpt2", vocab_size=50257, n_positions=64, n_ctx=64, n_embd=32, n_layer=2, n_head=4,
            n_inner=None, activation_function="gelu_new", layer_norm_epsilon=1e-5, resid_pdrop=0.1,
            embd_pdrop=0.1, attn_pdrop=0.1, initializer_range=0.02, bos_token_id=50256, eos_token_id=50256,
            summary_type="cls_index", task_specific_params={"text-generation": {"do_sample": True}})

failures = []


def check(ok, what):
    print(f"{what}: {'ok' if ok else 'FAIL'}")
    if not ok:
        failures.append(what)


def gc_run(model_dir, inputs, out):
    cmd = [os.path.join(BIN, "gc-run"), "model:" + model_dir, "--inputs", inputs, "-o", out]
    return subprocess.run(cmd, capture_output=True, text=True)


def inputs_for(cfg, d, seed):
    gen = torch.Generator().manual_seed(seed)
    B, T = 2, 8
    ids = torch.randint(0, cfg["vocab_size"], (B, T), generator=gen)
    labels = ids.clone()
    labels[0, 2] = -100
    path = os.path.join(d, "inputs.safetensors")
    safetensors_np.write(path, {"input_ids": ids.numpy(), "labels": labels.numpy()})
    return path, {"input_ids": ids, "labels": labels}


def logits_match(name, model_dir, cfg, stored, d, seed):
    ipath, inputs = inputs_for(cfg, d, seed)
    out = os.path.join(d, "out.safetensors")
    r = gc_run(model_dir, ipath, out)
    if r.returncode != 0:
        check(False, f"{name}: gc-run exit {r.returncode}: {r.stderr.strip()}")
        return
    got = safetensors_np.read(out)
    w = {k: torch.from_numpy(v.astype(np.float64)) for k, v in stored.items()}
    loss, logits = hf_models.forward(cfg, w, inputs)
    ref = logits.numpy()
    err = float(np.max(np.abs(got["logits"] - ref))) / float(np.max(np.abs(ref)))
    lerr = abs(float(got["loss"]) - float(loss)) / abs(float(loss))
    print(f"  {name}: logits {got['logits'].shape}, max rel error {err:.3g}; loss {float(got['loss']):.6f} "
          f"vs {float(loss):.6f}")
    check(got["logits"].shape == ref.shape and err <= TOL and lerr <= TOL, f"{name}: logits and loss")


def one_error_line(name, model_dir, d, expect):
    ipath, _ = inputs_for(GPT2, d, 3)
    r = gc_run(model_dir, ipath, os.path.join(d, "err.safetensors"))
    lines = r.stderr.strip().splitlines()
    print(f"  {name}: exit {r.returncode}: {r.stderr.strip()}")
    check(r.returncode == 2 and len(lines) == 1 and all(e in lines[0] for e in expect), name)


def main():
    with tempfile.TemporaryDirectory() as d:
        qdir = os.path.join(d, "qwen2")
        stored = hf_dir.write_dir(qdir, QWEN, hf_dir.random_weights(QWEN, 1), bf16=True, shards=2)
        check(not os.path.exists(os.path.join(qdir, "model.safetensors"))
              and "lm_head.weight" not in stored, "qwen2 directory: tied, two shards, BF16")
        logits_match("qwen2 (vocab 151936, tied, BF16, 2 shards)", qdir, QWEN, stored, d, 11)

        gdir = os.path.join(d, "gpt2")
        weights = hf_dir.random_weights(GPT2, 2)
        buffers = {f"h.{i}.attn.bias": np.tril(np.ones((1, 1, 64, 64), np.float32)) for i in range(2)}
        buffers.update({f"h.{i}.attn.masked_bias": np.array(-1e4, np.float32) for i in range(2)})
        stored = hf_dir.write_dir(gdir, GPT2, weights, prefix=False, extra=buffers)
        logits_match("gpt2 (no 'transformer.' prefix, attn.bias buffers)", gdir, GPT2, stored, d, 12)

        def variant(tag, change):
            v = os.path.join(d, tag)
            shutil.copytree(gdir, v)
            t = safetensors_np.read(os.path.join(v, "model.safetensors"))
            change(t)
            safetensors_np.write(os.path.join(v, "model.safetensors"), t)
            return v

        one_error_line("missing tensor", variant("missing", lambda t: t.pop("h.1.mlp.c_fc.bias")), d,
                       ["missing", "transformer.h.1.mlp.c_fc.bias"])
        one_error_line("unexpected tensor",
                       variant("unexpected", lambda t: t.update({"h.0.attn.extra": np.zeros(2, np.float32)})), d,
                       ["unexpected", "h.0.attn.extra"])
        one_error_line("wrong shape",
                       variant("shape", lambda t: t.update({"ln_f.weight": np.ones(31, np.float32)})), d,
                       ["transformer.ln_f.weight", "f32[32]", "f32[31]"])
        bdir = os.path.join(d, "bin")
        os.makedirs(bdir)
        shutil.copy(os.path.join(gdir, "config.json"), bdir)
        open(os.path.join(bdir, "pytorch_model.bin"), "wb").close()
        one_error_line("pytorch_model.bin", bdir, d, ["pytorch_model.bin", "safetensors"])
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
