#!/usr/bin/env python3
"""Generation with a KV cache: gc against PyTorch eager and against the
memory-bandwidth bound of decode.

What is measured: batch 1, a --prompt-token prompt (default 128) then --new
tokens (default 128), greedy, on a Qwen2 of the given config (default
qwen2_0.5b, tests/reference/hf_models.py CONFIGS) with random weights:

- prefill tokens/s: the prompt through the model once, filling the cache;
- decode tokens/s: each new token but the first (which comes from the
  prefill's logits) fed back one at a time.

gc's side is `gc-train DIR --generate --prompt P --temperature 0 --max-new N
--ids` on a Hugging Face directory this bench writes (config.json, the random
weights as model.safetensors, F32 or with --bf16 BF16, and a byte-level BPE
tokenizer.json without merges, so the prompt of P ASCII letters is P tokens);
its figures are the line it ends with, `generate: prompt_tokens=P
prefill_tok_s=X new_tokens=N decode_tok_s=Y` (compiles not counted), and its
peak RSS and wall time are the process's (wait4).

PyTorch's side is written as a user would for speed: the fast model of
bench/torch_models.py (fused q|k|v, nn.Linear) on the same weights, under
torch.no_grad, with a static cache tensor per layer [Hkv, max_len, D] written
by slicing (cache[:, pos:pos+T] = k) and read as the slice of the filled
positions; grouped-query attention as one batched matmul per layer (the query
heads of a kv head side by side, no copy of the cache); greedy argmax.  It runs
in each of bench/train_step_vs_torch.py's setups (torch's default threads and
2 threads with OMP_WAIT_POLICY=PASSIVE, glibc malloc as is and keeping freed
memory), each in its own process, the fastest kept; its BLAS is checked as
there (OpenBLAS, >= 50 GFLOP/s at 1024^3).  Both must generate the same
tokens: the bench prints how many of the first tokens agree (ties between
nearly equal logits may part them later; random weights give flat logits).

The bandwidth bound of decode: each token reads every weight once (the tied
embedding once, as the lm_head), so a token costs at least the weights'
bytes (f32: 4 per parameter) / the bandwidth numpy's copy of a large array
reaches (read + write, bench/kernels_vs_numpy.py's measure, in the same run).

The output ends with one key=value line: gc_decode_tok_s=... torch_decode_tok_s=...
decode_ratio=gc/torch bound_tok_s=... of_bound=gc/bound gc_prefill_tok_s=...
torch_prefill_tok_s=... prefill_ratio=... gc_rss_mb=... weights_mb=... rss_of_weights=...
tokens_agree=...

    /usr/bin/python3 bench/decode_vs_torch.py [--model M] [--set k=v,...] [--prompt-tokens P]
        [--new N] [--bf16] [--threads N] [--skip-setup]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "reference"))
sys.path.insert(0, os.path.join(REPO, "tests", "models"))
sys.path.insert(0, HERE)

import kernels_vs_numpy as kn  # noqa: E402
import train_step_vs_torch as ts  # noqa: E402
from train_step_vs_torch import Refused, progress  # noqa: E402

BIN = os.environ.get("GC_BIN_DIR", os.path.join(REPO, "build", "bin"))
SEED = 1
COPY_ROWS, COPY_COLS = 8192, 8192      # 256 MiB: far beyond the caches


def config(args):
    """The model's config (hf_models CONFIGS) with --set applied."""
    import hf_models
    if args.model not in hf_models.CONFIGS or hf_models.CONFIGS[args.model]["arch"] != "qwen2":
        raise Refused(f"--model must be a qwen2 config of tests/reference/hf_models.py, not {args.model!r}")
    cfg = dict(hf_models.CONFIGS[args.model])
    for kv in filter(None, (args.set or "").split(",")):
        k, _, v = kv.partition("=")
        if k not in cfg:
            raise Refused(f"--set: {args.model} has no key {k!r}")
        cfg[k] = type(cfg[k])(v) if not isinstance(cfg[k], bool) else v.lower() in ("1", "true")
    return cfg


def weights(cfg, bf16):
    """The random weights {HF name: float32 array} (bf16-rounded with --bf16),
    the same in every process."""
    import hf_dir
    import safetensors_np
    w = hf_dir.random_weights(cfg, SEED)
    return {k: safetensors_np.bf16_round(v) for k, v in w.items()} if bf16 else w


def param_count(cfg):
    import hf_models
    n = 0
    for shape in hf_models.param_shapes(cfg).values():
        k = 1
        for d in shape:
            k *= d
        n += k
    return n


def prompt_text(n):
    """n ASCII letters: n tokens under a byte-level tokenizer without merges."""
    return "".join("abcdefghijklmnopqrstuvwxyz"[(7 * i) % 26] for i in range(n))


def byte_level_tokenizer():
    """A tokenizer.json: byte-level BPE with the 256 byte tokens, no merges."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    vocab = {chr(c): b for b, c in zip(bs, cs)}
    level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [], "normalizer": None,
            "pre_tokenizer": level, "post_processor": level, "decoder": level,
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                      "vocab": vocab, "merges": []}}


def write_model_dir(path, cfg, bf16):
    import hf_dir
    progress(f"  writing {path}: random weights ({param_count(cfg) / 1e6:.1f}M parameters, "
             f"{'BF16' if bf16 else 'F32'})")
    hf_dir.write_dir(path, cfg, weights(cfg, False), bf16=bf16,
                     config_extra={"eos_token_id": None, "bos_token_id": None})
    with open(os.path.join(path, "tokenizer.json"), "w") as f:
        json.dump(byte_level_tokenizer(), f)


# ---- the torch side, in a worker process per setup

class CachedQwen2:
    """torch_models.Qwen2 run with a static KV cache per layer."""

    def __init__(self, model, cfg, max_len):
        import torch
        self.m, self.nh, self.nkv = model, cfg["num_attention_heads"], cfg["num_key_value_heads"]
        self.hd = cfg["hidden_size"] // self.nh
        shape = (self.nkv, max_len, self.hd)
        self.k = [torch.zeros(shape) for _ in model.layers]
        self.v = [torch.zeros(shape) for _ in model.layers]

    def __call__(self, ids, pos):
        """Logits [V] of the last of ids [T] at positions pos..pos+T-1, the
        cache filled up to pos+T."""
        import torch
        from torch_models import rotate_half
        m, nh, nkv, hd = self.m, self.nh, self.nkv, self.hd
        T, L, g = ids.shape[0], pos + ids.shape[0], self.nh // self.nkv
        cos, sin = m.cos[pos:L], m.sin[pos:L]
        mask = m.mask[pos:L, :L] if T > 1 else None
        h = m.embed_tokens(ids)
        for i, layer in enumerate(m.layers):
            a = layer.self_attn
            qkv = a.qkv_proj(layer.input_layernorm(h)).view(T, nh + 2 * nkv, hd)
            qk = qkv[:, :nh + nkv]
            qk = qk * cos + rotate_half(qk) * sin
            self.k[i][:, pos:L] = qk[:, nh:].transpose(0, 1)
            self.v[i][:, pos:L] = qkv[:, nh + nkv:].transpose(0, 1)
            q = qk[:, :nh].transpose(0, 1).reshape(nkv, g * T, hd)      # kv head j: query heads j*g..
            s = torch.bmm(q, self.k[i][:, :L].transpose(1, 2)) * (1.0 / hd ** 0.5)
            if mask is not None:
                s = (s.view(nkv, g, T, L) + mask).view(nkv, g * T, L)
            o = torch.bmm(torch.softmax(s, dim=-1), self.v[i][:, :L])   # [nkv, g*T, hd]
            h = h + a.o_proj(o.view(nh, T, hd).transpose(0, 1).reshape(T, nh * hd))
            h = h + layer.mlp(layer.post_attention_layernorm(h))
        return m.lm_head(m.norm(h[-1]))


def torch_generate(cfg, args):
    """(prefill seconds, decode seconds, decode steps, ids) of greedy generation."""
    import torch
    import torch_models
    max_len = args.prompt_tokens + args.new
    model = torch_models.build(cfg, max_len).load_hf({k: torch.from_numpy(v) for k, v in
                                                      weights(cfg, args.bf16).items()})
    model.eval()
    prompt = torch.tensor(list(prompt_text(args.prompt_tokens).encode()), dtype=torch.int64)
    with torch.no_grad():
        run = CachedQwen2(model, cfg, max_len)
        run(prompt[:8], 0)                                  # warm-up, overwritten below
        t0 = time.perf_counter()
        logits = run(prompt, 0)
        t1 = time.perf_counter()
        ids = [int(logits.argmax())]
        for n in range(1, args.new):
            logits = run(torch.tensor(ids[-1:]), args.prompt_tokens + n - 1)
            ids.append(int(logits.argmax()))
        t2 = time.perf_counter()
    return t1 - t0, t2 - t1, args.new - 1, ids


def worker(args):
    import torch
    _, threads = ts.SETUPS[args.worker]
    if threads:
        torch.set_num_threads(threads)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(),
           "matmul_gflops": ts.matmul_gflops(), "blas": ts.blas_in_use()}
    if not args.probe:
        pre, dec, steps, ids = torch_generate(config(args), args)
        out.update(prefill_s=pre, decode_s=dec, decode_steps=steps, ids=ids, peak_rss_mb=ts.peak_rss_mb())
    print(json.dumps(out))


def run_worker(args, setup, probe=False):
    env_extra, _ = ts.SETUPS[setup]
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", setup, "--model", args.model,
           "--prompt-tokens", str(args.prompt_tokens), "--new", str(args.new)] + \
        (["--set", args.set] if args.set else []) + (["--bf16"] if args.bf16 else []) + \
        (["--probe"] if probe else [])
    r = subprocess.run(cmd, capture_output=True, text=True, env=ts.environment(env_extra))
    if r.returncode != 0:
        raise Refused(f"the torch worker ({setup}) failed ({r.returncode}):\n{r.stderr.strip()}")
    return json.loads(r.stdout.strip().splitlines()[-1])


# ---- the gc side

def run_gc(args, model_dir, cache_dir):
    """gc's figures: the generate: line's, the generated ids, peak RSS (MB) and
    wall time (s) of gc-train."""
    gc_train = os.path.join(BIN, "gc-train")
    if not os.access(gc_train, os.X_OK):
        raise Refused(f"{gc_train} does not exist: build gc first (./gc-test builds it), or set GC_BIN_DIR")
    cmd = [gc_train, model_dir, "--generate", "--prompt", prompt_text(args.prompt_tokens), "--temperature", "0",
           "--max-new", str(args.new), "--ids"] + (["--threads", str(args.threads)] if args.threads else [])
    progress(f"  gc: {' '.join(os.path.relpath(cmd[0]) if i == 0 else a for i, a in enumerate(cmd[:3]))} "
             f"--prompt <{args.prompt_tokens} letters> {' '.join(cmd[5:])}")
    with tempfile.TemporaryFile() as so, tempfile.TemporaryFile() as se:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=so, stderr=se, env=ts.environment({"GC_CACHE_DIR": cache_dir}))
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        so.seek(0), se.seek(0)
        stdout, stderr = (f.read().decode(errors="replace") for f in (so, se))   # random tokens' bytes
    if p.returncode != 0:
        raise Refused(f"gc-train --generate failed ({p.returncode}):\n{stderr.strip()}")
    m = re.search(r"generate: prompt_tokens=(\d+) prefill_tok_s=(\S+) new_tokens=(\d+) decode_tok_s=(\S+)", stderr)
    if not m:
        raise Refused(f"no generate: line in gc-train's output:\n{stderr.strip()}")
    return {"prompt_tokens": int(m[1]), "prefill_tok_s": float(m[2]), "new_tokens": int(m[3]),
            "decode_tok_s": float(m[4]), "ids": json.loads(stdout.strip().splitlines()[-1]),
            "peak_rss_mb": ru.ru_maxrss / 1024.0, "wall_s": wall}


# ---- the comparison

def compare(args):
    sys.stdout.reconfigure(line_buffering=True)
    ts.setup_peers(args)
    cfg = config(args)
    probe = run_worker(args, ts.DEFAULT_SETUP, probe=True)
    print(f"torch {probe['torch']}, {probe['threads']} threads by default; 1024^3 f32 matmul "
          f"{probe['matmul_gflops']:.1f} GFLOP/s; BLAS: {probe['blas']}")
    ts.check_blas(probe)
    n_params = param_count(cfg)
    weight_bytes = 4 * n_params
    bw = max(kn.numpy_run(kn.NUMPY_COPY, [COPY_ROWS, COPY_COLS, 5], 1) for _ in range(3))
    bound = bw * 1e9 / weight_bytes
    print(f"memory: numpy's copy of f32[{COPY_ROWS},{COPY_COLS}] moves {bw:.1f} GB/s (read + write); "
          f"{n_params / 1e6:.1f}M parameters = {weight_bytes / 1e6:.0f} MB of f32 a token: "
          f"bound {bound:.1f} tokens/s")
    with tempfile.TemporaryDirectory(prefix="gc-decode-bench-") as tmp:
        model_dir, cache_dir = os.path.join(tmp, "model"), os.path.join(tmp, "cache")
        # in a process of its own: a child forked from this one would start
        # its peak RSS at this process's size, random weights included
        subprocess.run([sys.executable, os.path.abspath(__file__), "--write-dir", model_dir, "--model", args.model] +
                       (["--set", args.set] if args.set else []) + (["--bf16"] if args.bf16 else []), check=True)
        gc = run_gc(args, model_dir, cache_dir)
    progress(f"  gc: prefill {gc['prefill_tok_s']:.1f} tok/s, decode {gc['decode_tok_s']:.1f} tok/s, "
             f"{gc['new_tokens']} new tokens, peak RSS {gc['peak_rss_mb']:.0f} MB, wall {gc['wall_s']:.1f} s")
    if gc["new_tokens"] != args.new:
        raise Refused(f"gc generated {gc['new_tokens']} tokens, not {args.new}")
    torch_runs = {}
    for setup in ts.SETUPS:
        with ts.OthersLoad() as load:
            t = run_worker(args, setup)
        t.update(prefill_tok_s=args.prompt_tokens / t["prefill_s"], decode_tok_s=t["decode_steps"] / t["decode_s"],
                 load=load.share)
        torch_runs[setup] = t
        progress(f"  torch {setup} ({t['threads']} threads): prefill {t['prefill_tok_s']:.1f} tok/s, "
                 f"decode {t['decode_tok_s']:.1f} tok/s, peak RSS {t['peak_rss_mb']:.0f} MB, "
                 f"others' load {load.share:.0%}")
    best = max(torch_runs, key=lambda s: torch_runs[s]["decode_tok_s"])
    t = torch_runs[best]
    agree = next((i for i, (a, b) in enumerate(zip(gc["ids"], t["ids"])) if a != b), min(len(gc["ids"]), len(t["ids"])))
    w_mb = weight_bytes / 1e6
    print(f"\n{args.model}{' (' + args.set + ')' if args.set else ''}, batch 1, {args.prompt_tokens}-token prompt "
          f"then {args.new} new tokens, greedy, {'BF16' if args.bf16 else 'F32'} weights "
          f"({n_params / 1e6:.1f}M parameters, {w_mb:.0f} MB in f32)")
    print(f"  {'':8s} {'prefill tok/s':>14s} {'decode tok/s':>13s} {'peak RSS MB':>12s}")
    print(f"  {'gc':8s} {gc['prefill_tok_s']:14.1f} {gc['decode_tok_s']:13.1f} {gc['peak_rss_mb']:12.0f}   "
          f"gc-train --generate, wall {gc['wall_s']:.1f} s")
    print(f"  {'torch':8s} {t['prefill_tok_s']:14.1f} {t['decode_tok_s']:13.1f} {t['peak_rss_mb']:12.0f}   {best}")
    print(f"  {'bound':8s} {'':14s} {bound:13.1f} {'':12s}   f32 weights once a token at {bw:.1f} GB/s")
    print(f"  decode: gc is {gc['decode_tok_s'] / t['decode_tok_s']:.2f}x torch and "
          f"{gc['decode_tok_s'] / bound:.0%} of the bandwidth bound; prefill {gc['prefill_tok_s'] / t['prefill_tok_s']:.2f}x torch")
    print(f"  gc's peak RSS is {gc['peak_rss_mb'] / w_mb:.2f}x the f32 weights' size")
    print(f"  the first {agree} of {args.new} tokens agree between gc and torch")
    print(f"gc_decode_tok_s={gc['decode_tok_s']:.2f} torch_decode_tok_s={t['decode_tok_s']:.2f} "
          f"decode_ratio={gc['decode_tok_s'] / t['decode_tok_s']:.4f} bound_tok_s={bound:.2f} "
          f"of_bound={gc['decode_tok_s'] / bound:.4f} gc_prefill_tok_s={gc['prefill_tok_s']:.2f} "
          f"torch_prefill_tok_s={t['prefill_tok_s']:.2f} prefill_ratio={gc['prefill_tok_s'] / t['prefill_tok_s']:.4f} "
          f"gc_rss_mb={gc['peak_rss_mb']:.1f} weights_mb={w_mb:.1f} rss_of_weights={gc['peak_rss_mb'] / w_mb:.3f} "
          f"tokens_agree={agree}")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] + "  Ends with a key=value line.")
    p.add_argument("--model", default="qwen2_0.5b", help="a qwen2 config of tests/reference/hf_models.py "
                   "(default qwen2_0.5b)")
    p.add_argument("--set", help="config changes, key=value,... (e.g. num_hidden_layers=2,vocab_size=1024)")
    p.add_argument("--prompt-tokens", type=int, default=128, help="prompt length (default 128)")
    p.add_argument("--new", type=int, default=128, help="tokens to generate (default 128)")
    p.add_argument("--bf16", action="store_true", help="store the weights as BF16 (both sides use the same values)")
    p.add_argument("--threads", type=int, default=0, help="gc's threads (default: the cores)")
    p.add_argument("--skip-setup", action="store_true", help="do not run bench/setup.sh (packages are in place)")
    p.add_argument("--worker", choices=list(ts.SETUPS), help=argparse.SUPPRESS)
    p.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--write-dir", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.prompt_tokens < 1 or args.new < 2:
        p.error("--prompt-tokens must be >= 1 and --new >= 2")
    return args


def main(argv):
    args = parse_args(argv)
    try:
        if args.write_dir:
            write_model_dir(args.write_dir, config(args), args.bf16)
        elif args.worker:
            worker(args)
        else:
            compare(args)
    except Refused as e:
        print(f"decode_vs_torch: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
