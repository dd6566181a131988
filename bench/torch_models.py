"""PyTorch models written the way a PyTorch user writes them for speed, for
bench/train_step_vs_torch.py to time against gc.

tests/reference/hf_models.py holds the same architectures written for
exactness (a dict of weights, the Hugging Face operation order); these are the
fast counterparts, in eager PyTorch 1.13 (which has neither nn.RMSNorm nor
F.scaled_dot_product_attention):

- nn.Module with nn.Linear / nn.Embedding / nn.LayerNorm, a small RMSNorm module;
- one fused projection per block where the maths allows it (q|k|v, as GPT-2's
  c_attn already is), so one GEMM instead of three;
- attention as plain batched matmuls: torch.baddbmm adds the causal mask
  (a buffer built once) and applies the 1/sqrt(d) scale in the same call,
  then softmax and bmm; RoPE is applied to q and k in one go;
- SiLU in place on the gate projection's own output;
- the next-token loss shifts the labels, not the [B, T, V] logits (no copy).

Every model is built from a config of tests/reference/hf_models.py CONFIGS for
one sequence length, loads its weights from a dict under Hugging Face names
(load_hf), and returns the mean next-token cross-entropy from
forward(input_ids, labels).  Padding masks are not supported: every token
attends (attention_mask of ones).  A new architecture is one more class plus a
line in ARCHS.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn


class RMSNorm(nn.Module):
    """Qwen2RMSNorm: w * x / sqrt(mean(x^2) + eps)."""

    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def causal_mask(T, dtype=torch.float32):
    """[T, T], 0 on and below the diagonal, the dtype's minimum above it."""
    return torch.full((T, T), torch.finfo(dtype).min, dtype=dtype).triu(1)


def attention(q, k, v, mask):
    """Causal attention of [B*heads, T, d] queries, keys and values -> same shape."""
    s = torch.baddbmm(mask, q, k.transpose(1, 2), alpha=1.0 / math.sqrt(q.shape[-1]))
    return torch.bmm(torch.softmax(s, dim=-1), v)


def next_token_loss(logits, labels):
    """Mean cross-entropy of logits[:, t] against labels[:, t+1] (HF's causal LM
    loss), shifting the labels rather than copying the logits."""
    shifted = F.pad(labels[:, 1:], (0, 1), value=-100)
    return F.cross_entropy(logits.view(-1, logits.shape[-1]), shifted.reshape(-1), ignore_index=-100)


class HFLoadable(nn.Module):
    """load_hf(weights): copies a {Hugging Face name: tensor} dict into the
    module, through hf_to_own(), which says how each own parameter is made
    from the HF tensors."""

    def hf_to_own(self, w):
        raise NotImplementedError

    @torch.no_grad()
    def load_hf(self, w):
        own = dict(self.named_parameters())
        made = self.hf_to_own(w)
        missing = set(own) - set(made)
        if missing:
            raise KeyError(f"{type(self).__name__}: no HF weight for {sorted(missing)}")
        for name, t in made.items():
            own[name].copy_(t)
        return self


# ---- Qwen2 (Qwen2ForCausalLM)

def rotate_half(x):
    d = x.shape[-1] // 2
    return torch.cat((-x[..., d:], x[..., :d]), dim=-1)


class Qwen2Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        H, self.nh, self.nkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
        self.hd = H // self.nh
        self.qkv_proj = nn.Linear(H, (self.nh + 2 * self.nkv) * self.hd, bias=True)
        self.o_proj = nn.Linear(self.nh * self.hd, H, bias=False)

    def forward(self, x, cos, sin, mask):
        B, T, _ = x.shape
        nh, nkv, hd = self.nh, self.nkv, self.hd
        qkv = self.qkv_proj(x).view(B, T, nh + 2 * nkv, hd)
        qk = qkv[:, :, :nh + nkv]
        qk = qk * cos + rotate_half(qk) * sin                 # RoPE on q and k at once
        q = qk[:, :, :nh].transpose(1, 2).reshape(B * nh, T, hd)

        def per_query_head(t):                                # GQA: kv head j serves heads j*g..j*g+g-1
            t = t.transpose(1, 2)[:, :, None].expand(B, nkv, nh // nkv, T, hd)
            return t.reshape(B * nh, T, hd)

        k, v = per_query_head(qk[:, :, nh:]), per_query_head(qkv[:, :, nh + nkv:])
        a = attention(q, k, v, mask).view(B, nh, T, hd).transpose(1, 2).reshape(B, T, nh * hd)
        return self.o_proj(a)


class Qwen2MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        H, I = cfg["hidden_size"], cfg["intermediate_size"]
        self.gate_proj = nn.Linear(H, I, bias=False)
        self.up_proj = nn.Linear(H, I, bias=False)
        self.down_proj = nn.Linear(I, H, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x), inplace=True) * self.up_proj(x))


class Qwen2Layer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        H, eps = cfg["hidden_size"], cfg["rms_norm_eps"]
        self.input_layernorm = RMSNorm(H, eps)
        self.self_attn = Qwen2Attention(cfg)
        self.post_attention_layernorm = RMSNorm(H, eps)
        self.mlp = Qwen2MLP(cfg)

    def forward(self, h, cos, sin, mask):
        h = h + self.self_attn(self.input_layernorm(h), cos, sin, mask)
        return h + self.mlp(self.post_attention_layernorm(h))


class Qwen2(HFLoadable):
    def __init__(self, cfg, seq):
        super().__init__()
        V, H = cfg["vocab_size"], cfg["hidden_size"]
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(V, H)
        self.layers = nn.ModuleList(Qwen2Layer(cfg) for _ in range(cfg["num_hidden_layers"]))
        self.norm = RMSNorm(H, cfg["rms_norm_eps"])
        self.lm_head = nn.Linear(H, V, bias=False)
        if cfg.get("tie_word_embeddings", False):
            self.lm_head.weight = self.embed_tokens.weight
        hd = H // cfg["num_attention_heads"]
        inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
        freqs = torch.outer(torch.arange(seq, dtype=torch.float32), inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)[:, None]      # [T, 1, hd]: broadcasts over heads
        self.register_buffer("cos", emb.cos(), persistent=False)
        self.register_buffer("sin", emb.sin(), persistent=False)
        self.register_buffer("mask", causal_mask(seq), persistent=False)

    def forward(self, input_ids, labels):
        h = self.embed_tokens(input_ids)
        for layer in self.layers:
            h = layer(h, self.cos, self.sin, self.mask)
        return next_token_loss(self.lm_head(self.norm(h)), labels)

    def hf_to_own(self, w):
        own = {"embed_tokens.weight": w["model.embed_tokens.weight"], "norm.weight": w["model.norm.weight"]}
        if "lm_head.weight" in w:
            own["lm_head.weight"] = w["lm_head.weight"]
        for i in range(len(self.layers)):
            p, o = f"model.layers.{i}.", f"layers.{i}."
            a = p + "self_attn."
            own[o + "self_attn.qkv_proj.weight"] = torch.cat([w[a + n + "_proj.weight"] for n in "qkv"])
            own[o + "self_attn.qkv_proj.bias"] = torch.cat([w[a + n + "_proj.bias"] for n in "qkv"])
            own[o + "self_attn.o_proj.weight"] = w[a + "o_proj.weight"]
            for n in ("gate_proj", "up_proj", "down_proj"):
                own[o + f"mlp.{n}.weight"] = w[p + f"mlp.{n}.weight"]
            for n in ("input_layernorm", "post_attention_layernorm"):
                own[o + n + ".weight"] = w[p + n + ".weight"]
        return own


# ---- GPT-2 (GPT2LMHeadModel)

class GPT2Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        E, eps = cfg["n_embd"], cfg["layer_norm_epsilon"]
        inner = cfg.get("n_inner") or 4 * E
        self.nh = cfg["n_head"]
        self.ln_1 = nn.LayerNorm(E, eps=eps)
        self.c_attn = nn.Linear(E, 3 * E)
        self.attn_proj = nn.Linear(E, E)
        self.ln_2 = nn.LayerNorm(E, eps=eps)
        self.c_fc = nn.Linear(E, inner)
        self.mlp_proj = nn.Linear(inner, E)

    def forward(self, h, mask):
        B, T, E = h.shape
        nh, hd = self.nh, E // self.nh
        qkv = self.c_attn(self.ln_1(h)).view(B, T, 3, nh, hd)
        q, k, v = (t.transpose(1, 2).reshape(B * nh, T, hd) for t in qkv.unbind(2))
        a = attention(q, k, v, mask).view(B, nh, T, hd).transpose(1, 2).reshape(B, T, E)
        h = h + self.attn_proj(a)
        return h + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(h)), approximate="tanh"))


class GPT2(HFLoadable):
    def __init__(self, cfg, seq):
        super().__init__()
        V, E, P = cfg["vocab_size"], cfg["n_embd"], cfg["n_positions"]
        if seq > P:
            raise ValueError(f"gpt2: seq {seq} > n_positions {P}")
        self.wte = nn.Embedding(V, E)
        self.wpe = nn.Embedding(P, E)
        self.h = nn.ModuleList(GPT2Block(cfg) for _ in range(cfg["n_layer"]))
        self.ln_f = nn.LayerNorm(E, eps=cfg["layer_norm_epsilon"])
        self.register_buffer("pos", torch.arange(seq), persistent=False)
        self.register_buffer("mask", causal_mask(seq), persistent=False)

    def forward(self, input_ids, labels):
        h = self.wte(input_ids) + self.wpe(self.pos)
        for block in self.h:
            h = block(h, self.mask)
        return next_token_loss(F.linear(self.ln_f(h), self.wte.weight), labels)  # tied lm_head

    def hf_to_own(self, w):
        t = "transformer."
        own = {n: w[t + n] for n in ("wte.weight", "wpe.weight", "ln_f.weight", "ln_f.bias")}
        for i in range(len(self.h)):
            p, o = f"{t}h.{i}.", f"h.{i}."
            for n in ("ln_1", "ln_2"):
                own[o + n + ".weight"], own[o + n + ".bias"] = w[p + n + ".weight"], w[p + n + ".bias"]
            # HF's Conv1D stores [in, out]; nn.Linear wants [out, in]
            for hf, mine in (("attn.c_attn", "c_attn"), ("attn.c_proj", "attn_proj"),
                             ("mlp.c_fc", "c_fc"), ("mlp.c_proj", "mlp_proj")):
                own[o + mine + ".weight"] = w[p + hf + ".weight"].t()
                own[o + mine + ".bias"] = w[p + hf + ".bias"]
        return own


ARCHS = {"qwen2": Qwen2, "gpt2": GPT2}


def build(cfg, seq):
    """The fast model of cfg's architecture for sequences of length seq."""
    arch = cfg["arch"]
    if arch not in ARCHS:
        raise ValueError(f"no fast torch model for architecture {arch!r} (have: {', '.join(ARCHS)})")
    return ARCHS[arch](cfg, seq)
