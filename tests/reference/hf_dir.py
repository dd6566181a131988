"""Hugging Face model directories for the tests, with random weights:
config.json, model.safetensors (or two shards and model.safetensors.index.json),
F32 or BF16, with or without the base-model prefix, as save_pretrained (or
the hub's older checkpoints) lays them out; and reading one back for the
PyTorch reference (tests/reference/hf_models.py), whatever gc wrote.
"""
import json
import os

import numpy as np
import torch

import hf_models
import safetensors_np

PREFIX = {"qwen2": "model.", "gpt2": "transformer.", "bert": "bert."}
CLASS = {"qwen2": "Qwen2ForCausalLM", "gpt2": "GPT2LMHeadModel", "bert": "BertForMaskedLM",
         "t5": "T5ForConditionalGeneration"}
IGNORED = (".attn.bias", ".attn.masked_bias", ".rotary_emb.inv_freq")


def random_weights(cfg, seed):
    """{HF name: float32 array}: norms near 1, the rest small."""
    gen = torch.Generator().manual_seed(seed)
    w = {}
    for name, shape in hf_models.param_shapes(cfg).items():
        if "norm" in name or ".ln_" in name or name.endswith("ln_f.weight"):
            t = 1.0 + 0.1 * torch.randn(shape, generator=gen) if name.endswith("weight") else \
                0.1 * torch.randn(shape, generator=gen)
        elif len(shape) == 1:
            t = 0.1 * torch.randn(shape, generator=gen)
        else:
            fan_in = shape[0] if ".c_" in name else shape[-1]
            t = torch.randn(shape, generator=gen) * min(0.5, 1.5 / fan_in ** 0.5)
        w[name] = t.to(torch.float32).numpy()
    return w


def write_dir(path, cfg, weights, bf16=False, shards=1, prefix=True, extra=None, config_extra=None):
    """Writes the directory; returns the weights as stored (bf16-rounded when
    bf16), under the full HF names."""
    os.makedirs(path, exist_ok=True)
    arch = cfg["arch"]
    config = {k: v for k, v in cfg.items() if k != "arch"}
    config.update(model_type=arch, architectures=[CLASS[arch]],
                  torch_dtype="bfloat16" if bf16 else "float32", transformers_version="4.46.0")
    config.update(config_extra or {})
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    stored = {k: (safetensors_np.bf16_round(v) if bf16 else v) for k, v in weights.items()}
    pre = PREFIX.get(arch, "")
    names = {k: (k[len(pre):] if not prefix and pre and k.startswith(pre) else k) for k in weights}
    tensors = {names[k]: v for k, v in weights.items()}
    tensors.update(extra or {})
    keys = list(tensors)
    if shards == 1:
        safetensors_np.write(os.path.join(path, "model.safetensors"), tensors, bf16=bf16)
        return stored
    weight_map = {}
    for i in range(shards):
        part = keys[i::shards]
        fname = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        safetensors_np.write(os.path.join(path, fname), {k: tensors[k] for k in part}, bf16=bf16)
        weight_map.update({k: fname for k in part})
    with open(os.path.join(path, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f, indent=2)
    return stored


def read_dir(path):
    """(cfg for hf_models, {full HF name: float64 tensor}) of a directory."""
    with open(os.path.join(path, "config.json")) as f:
        config = json.load(f)
    cfg = dict(config, arch=config["model_type"])
    if cfg["arch"] == "gpt2" and not cfg.get("n_inner"):
        cfg["n_inner"] = None
    index = os.path.join(path, "model.safetensors.index.json")
    raw = {}
    if os.path.exists(index):
        with open(index) as f:
            for fname in sorted(set(json.load(f)["weight_map"].values())):
                raw.update(safetensors_np.read(os.path.join(path, fname)))
    else:
        raw = safetensors_np.read(os.path.join(path, "model.safetensors"))
    want = hf_models.param_shapes(cfg)
    pre = PREFIX.get(cfg["arch"], "")
    w = {}
    for k, v in raw.items():
        if k.endswith(IGNORED):
            continue
        name = k if k in want or k == "lm_head.weight" else pre + k
        w[name] = torch.from_numpy(np.asarray(v, dtype=np.float64))
    return cfg, w
