"""Independent PyTorch implementations of the Hugging Face model definitions
(Qwen2ForCausalLM, GPT2LMHeadModel, BertForMaskedLM, T5ForConditionalGeneration),
written from transformers' modeling files, in eval mode (no dropout).

Weights are a dict {HF parameter name: tensor}, exactly the names HF's
save_pretrained writes (tied tensors under the kept name only).  Every function
returns (loss, logits).  Used by tests/models/test_hf_reference.py to check gc's
graph builders: loss, logits and every gradient.
"""
import math

import torch
import torch.nn.functional as F

# ---- configurations (the tiny presets of the models issue, HF defaults elsewhere)

CONFIGS = {
    "qwen2_tiny": dict(arch="qwen2", vocab_size=512, hidden_size=128, intermediate_size=384,
                       num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2,
                       rope_theta=10000.0, rms_norm_eps=1e-6, max_position_embeddings=256,
                       tie_word_embeddings=False),
    "gpt2_tiny": dict(arch="gpt2", vocab_size=512, n_positions=128, n_embd=128, n_layer=4,
                      n_head=4, n_inner=512, layer_norm_epsilon=1e-5),
    "bert_tiny": dict(arch="bert", vocab_size=512, hidden_size=128, num_hidden_layers=4,
                      num_attention_heads=4, intermediate_size=512, max_position_embeddings=128,
                      type_vocab_size=2, layer_norm_eps=1e-12, pad_token_id=0),
    "t5_tiny": dict(arch="t5", vocab_size=512, d_model=128, d_kv=32, d_ff=256, num_layers=3,
                    num_decoder_layers=2, num_heads=4, relative_attention_num_buckets=32,
                    relative_attention_max_distance=128, layer_norm_epsilon=1e-6,
                    pad_token_id=0, eos_token_id=1, decoder_start_token_id=0),
}

# The published configurations (their config.json values that shape parameters).
CONFIGS.update({
    "qwen2_0.5b": dict(arch="qwen2", vocab_size=151936, hidden_size=896, intermediate_size=4864,
                       num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
                       rope_theta=1000000.0, rms_norm_eps=1e-6, max_position_embeddings=131072,
                       tie_word_embeddings=True),
    "gpt2": dict(arch="gpt2", vocab_size=50257, n_positions=1024, n_embd=768, n_layer=12, n_head=12,
                 n_inner=None, layer_norm_epsilon=1e-5),
    "bert_base": dict(arch="bert", vocab_size=30522, hidden_size=768, num_hidden_layers=12,
                      num_attention_heads=12, intermediate_size=3072, max_position_embeddings=512,
                      type_vocab_size=2, layer_norm_eps=1e-12, pad_token_id=0),
    "t5_small": dict(arch="t5", vocab_size=32128, d_model=512, d_kv=64, d_ff=2048, num_layers=6,
                     num_decoder_layers=6, num_heads=8, relative_attention_num_buckets=32,
                     relative_attention_max_distance=128, layer_norm_epsilon=1e-6,
                     pad_token_id=0, eos_token_id=1, decoder_start_token_id=0),
})
TINY = ["qwen2_tiny", "gpt2_tiny", "bert_tiny", "t5_tiny"]


def param_shapes(cfg):
    """{name: shape} of every parameter, in HF's naming."""
    a = cfg["arch"]
    s = {}
    if a == "qwen2":
        V, H, I = cfg["vocab_size"], cfg["hidden_size"], cfg["intermediate_size"]
        nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
        hd = H // nh
        s["model.embed_tokens.weight"] = (V, H)
        for i in range(cfg["num_hidden_layers"]):
            p = f"model.layers.{i}."
            s[p + "self_attn.q_proj.weight"] = (nh * hd, H)
            s[p + "self_attn.q_proj.bias"] = (nh * hd,)
            s[p + "self_attn.k_proj.weight"] = (nkv * hd, H)
            s[p + "self_attn.k_proj.bias"] = (nkv * hd,)
            s[p + "self_attn.v_proj.weight"] = (nkv * hd, H)
            s[p + "self_attn.v_proj.bias"] = (nkv * hd,)
            s[p + "self_attn.o_proj.weight"] = (H, nh * hd)
            s[p + "mlp.gate_proj.weight"] = (I, H)
            s[p + "mlp.up_proj.weight"] = (I, H)
            s[p + "mlp.down_proj.weight"] = (H, I)
            s[p + "input_layernorm.weight"] = (H,)
            s[p + "post_attention_layernorm.weight"] = (H,)
        s["model.norm.weight"] = (H,)
        if not cfg.get("tie_word_embeddings", False):
            s["lm_head.weight"] = (V, H)
    elif a == "gpt2":
        V, E, P = cfg["vocab_size"], cfg["n_embd"], cfg["n_positions"]
        inner = cfg.get("n_inner") or 4 * E
        s["transformer.wte.weight"] = (V, E)
        s["transformer.wpe.weight"] = (P, E)
        for i in range(cfg["n_layer"]):
            p = f"transformer.h.{i}."
            s[p + "ln_1.weight"] = (E,)
            s[p + "ln_1.bias"] = (E,)
            s[p + "attn.c_attn.weight"] = (E, 3 * E)
            s[p + "attn.c_attn.bias"] = (3 * E,)
            s[p + "attn.c_proj.weight"] = (E, E)
            s[p + "attn.c_proj.bias"] = (E,)
            s[p + "ln_2.weight"] = (E,)
            s[p + "ln_2.bias"] = (E,)
            s[p + "mlp.c_fc.weight"] = (E, inner)
            s[p + "mlp.c_fc.bias"] = (inner,)
            s[p + "mlp.c_proj.weight"] = (inner, E)
            s[p + "mlp.c_proj.bias"] = (E,)
        s["transformer.ln_f.weight"] = (E,)
        s["transformer.ln_f.bias"] = (E,)
    elif a == "bert":
        V, H, I, P = cfg["vocab_size"], cfg["hidden_size"], cfg["intermediate_size"], cfg["max_position_embeddings"]
        e = "bert.embeddings."
        s[e + "word_embeddings.weight"] = (V, H)
        s[e + "position_embeddings.weight"] = (P, H)
        s[e + "token_type_embeddings.weight"] = (cfg["type_vocab_size"], H)
        s[e + "LayerNorm.weight"] = (H,)
        s[e + "LayerNorm.bias"] = (H,)
        for i in range(cfg["num_hidden_layers"]):
            p = f"bert.encoder.layer.{i}."
            for n in ("query", "key", "value"):
                s[p + f"attention.self.{n}.weight"] = (H, H)
                s[p + f"attention.self.{n}.bias"] = (H,)
            s[p + "attention.output.dense.weight"] = (H, H)
            s[p + "attention.output.dense.bias"] = (H,)
            s[p + "attention.output.LayerNorm.weight"] = (H,)
            s[p + "attention.output.LayerNorm.bias"] = (H,)
            s[p + "intermediate.dense.weight"] = (I, H)
            s[p + "intermediate.dense.bias"] = (I,)
            s[p + "output.dense.weight"] = (H, I)
            s[p + "output.dense.bias"] = (H,)
            s[p + "output.LayerNorm.weight"] = (H,)
            s[p + "output.LayerNorm.bias"] = (H,)
        c = "cls.predictions."
        s[c + "bias"] = (V,)
        s[c + "transform.dense.weight"] = (H, H)
        s[c + "transform.dense.bias"] = (H,)
        s[c + "transform.LayerNorm.weight"] = (H,)
        s[c + "transform.LayerNorm.bias"] = (H,)
    elif a == "t5":
        V, D, dkv, dff, nh = cfg["vocab_size"], cfg["d_model"], cfg["d_kv"], cfg["d_ff"], cfg["num_heads"]
        inner = nh * dkv
        nb = cfg["relative_attention_num_buckets"]
        s["shared.weight"] = (V, D)

        def attn(p, rel):
            s[p + "q.weight"] = (inner, D)
            s[p + "k.weight"] = (inner, D)
            s[p + "v.weight"] = (inner, D)
            s[p + "o.weight"] = (D, inner)
            if rel:
                s[p + "relative_attention_bias.weight"] = (nb, nh)

        for i in range(cfg["num_layers"]):
            p = f"encoder.block.{i}.layer."
            attn(p + "0.SelfAttention.", i == 0)
            s[p + "0.layer_norm.weight"] = (D,)
            s[p + "1.DenseReluDense.wi.weight"] = (dff, D)
            s[p + "1.DenseReluDense.wo.weight"] = (D, dff)
            s[p + "1.layer_norm.weight"] = (D,)
        s["encoder.final_layer_norm.weight"] = (D,)
        for i in range(cfg["num_decoder_layers"]):
            p = f"decoder.block.{i}.layer."
            attn(p + "0.SelfAttention.", i == 0)
            s[p + "0.layer_norm.weight"] = (D,)
            attn(p + "1.EncDecAttention.", False)
            s[p + "1.layer_norm.weight"] = (D,)
            s[p + "2.DenseReluDense.wi.weight"] = (dff, D)
            s[p + "2.DenseReluDense.wo.weight"] = (D, dff)
            s[p + "2.layer_norm.weight"] = (D,)
        s["decoder.final_layer_norm.weight"] = (D,)
    return s


# ---- shared pieces

def min_value(dtype):
    return torch.finfo(dtype).min


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def rms_norm(x, w, eps):
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def gelu_erf(x):
    return x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))


def heads(x, n):
    B, T, C = x.shape
    return x.view(B, T, n, C // n).transpose(1, 2)


def merge(x):
    B, H, T, D = x.shape
    return x.transpose(1, 2).reshape(B, T, H * D)


def ce(logits, labels):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)


def causal_lm_loss(logits, labels):
    return ce(logits[..., :-1, :].contiguous(), labels[..., 1:].contiguous())


# ---- Qwen2

def rotate_half(x):
    d = x.shape[-1] // 2
    return torch.cat((-x[..., d:], x[..., :d]), dim=-1)


def qwen2(cfg, w, input_ids, labels, attention_mask):
    H, nh, nkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd, eps = H // nh, cfg["rms_norm_eps"]
    B, T = input_ids.shape
    dt = w["model.embed_tokens.weight"].dtype
    h = F.embedding(input_ids, w["model.embed_tokens.weight"])
    inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.int64).to(dt) / hd))
    pos = torch.arange(T, dtype=dt)
    freqs = torch.outer(pos, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]
    mn = min_value(dt)
    causal = torch.full((T, T), mn, dtype=dt).triu(1)[None, None].expand(B, 1, T, T).clone()
    pad = (causal + attention_mask[:, None, None, :].to(dt)) == 0
    causal = causal.masked_fill(pad, mn)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        x = rms_norm(h, w[p + "input_layernorm.weight"], eps)
        q = heads(F.linear(x, w[p + "self_attn.q_proj.weight"], w[p + "self_attn.q_proj.bias"]), nh)
        k = heads(F.linear(x, w[p + "self_attn.k_proj.weight"], w[p + "self_attn.k_proj.bias"]), nkv)
        v = heads(F.linear(x, w[p + "self_attn.v_proj.weight"], w[p + "self_attn.v_proj.bias"]), nkv)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(nh // nkv, dim=1)
        v = v.repeat_interleave(nh // nkv, dim=1)
        s = q @ k.transpose(2, 3) / math.sqrt(hd) + causal
        a = F.softmax(s, dim=-1) @ v
        h = h + F.linear(merge(a), w[p + "self_attn.o_proj.weight"])
        x = rms_norm(h, w[p + "post_attention_layernorm.weight"], eps)
        m = F.silu(F.linear(x, w[p + "mlp.gate_proj.weight"])) * F.linear(x, w[p + "mlp.up_proj.weight"])
        h = h + F.linear(m, w[p + "mlp.down_proj.weight"])
    h = rms_norm(h, w["model.norm.weight"], eps)
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    logits = F.linear(h, head)
    return causal_lm_loss(logits, labels), logits


# ---- GPT-2

def gpt2(cfg, w, input_ids, labels, attention_mask):
    E, nh, eps = cfg["n_embd"], cfg["n_head"], cfg["layer_norm_epsilon"]
    B, T = input_ids.shape
    wte = w["transformer.wte.weight"]
    dt = wte.dtype
    mn = min_value(dt)
    h = F.embedding(input_ids, wte) + w["transformer.wpe.weight"][:T][None]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))[None, None]
    ext = (1.0 - attention_mask[:, None, None, :].to(dt)) * mn
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}."
        x = layer_norm(h, w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        qkv = x @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        q, k, v = qkv.split(E, dim=2)
        q, k, v = heads(q, nh), heads(k, nh), heads(v, nh)
        s = q @ k.transpose(-1, -2) / math.sqrt(E // nh)
        s = torch.where(causal, s, torch.tensor(mn, dtype=dt)) + ext
        a = merge(F.softmax(s, dim=-1) @ v)
        h = h + (a @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"])
        x = layer_norm(h, w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        m = gelu_new(x @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
        h = h + (m @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"])
    h = layer_norm(h, w["transformer.ln_f.weight"], w["transformer.ln_f.bias"], eps)
    logits = F.linear(h, wte)
    return causal_lm_loss(logits, labels), logits


# ---- BERT

def bert(cfg, w, input_ids, labels, attention_mask, token_type_ids):
    H, nh, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"]
    B, T = input_ids.shape
    word = w["bert.embeddings.word_embeddings.weight"]
    dt = word.dtype
    e = "bert.embeddings."
    h = (F.embedding(input_ids, word, padding_idx=cfg["pad_token_id"])
         + F.embedding(token_type_ids, w[e + "token_type_embeddings.weight"])
         + w[e + "position_embeddings.weight"][:T][None])
    h = layer_norm(h, w[e + "LayerNorm.weight"], w[e + "LayerNorm.bias"], eps)
    ext = (1.0 - attention_mask[:, None, None, :].to(dt)) * min_value(dt)
    for i in range(cfg["num_hidden_layers"]):
        p = f"bert.encoder.layer.{i}."
        lin = lambda x, n: F.linear(x, w[p + n + ".weight"], w[p + n + ".bias"])
        q, k, v = (heads(lin(h, "attention.self." + n), nh) for n in ("query", "key", "value"))
        s = q @ k.transpose(-1, -2) / math.sqrt(H // nh) + ext
        a = merge(F.softmax(s, dim=-1) @ v)
        h = layer_norm(lin(a, "attention.output.dense") + h, w[p + "attention.output.LayerNorm.weight"],
                       w[p + "attention.output.LayerNorm.bias"], eps)
        m = gelu_erf(lin(h, "intermediate.dense"))
        h = layer_norm(lin(m, "output.dense") + h, w[p + "output.LayerNorm.weight"],
                       w[p + "output.LayerNorm.bias"], eps)
    c = "cls.predictions."
    x = gelu_erf(F.linear(h, w[c + "transform.dense.weight"], w[c + "transform.dense.bias"]))
    x = layer_norm(x, w[c + "transform.LayerNorm.weight"], w[c + "transform.LayerNorm.bias"], eps)
    logits = F.linear(x, word) + w[c + "bias"]
    return ce(logits, labels), logits


# ---- T5

def t5_bucket(rel, bidirectional, num_buckets, max_distance):
    buckets = torch.zeros_like(rel)
    if bidirectional:
        num_buckets //= 2
        buckets += (rel > 0).to(torch.long) * num_buckets
        rel = torch.abs(rel)
    else:
        rel = -torch.min(rel, torch.zeros_like(rel))
    max_exact = num_buckets // 2
    is_small = rel < max_exact
    large = max_exact + (torch.log(rel.float() / max_exact) / math.log(max_distance / max_exact)
                         * (num_buckets - max_exact)).to(torch.long)
    large = torch.min(large, torch.full_like(large, num_buckets - 1))
    return buckets + torch.where(is_small, rel, large)


def t5_bias(cfg, table, q_len, k_len, bidirectional):
    ctx = torch.arange(q_len, dtype=torch.long)[:, None]
    mem = torch.arange(k_len, dtype=torch.long)[None, :]
    b = t5_bucket(mem - ctx, bidirectional, cfg["relative_attention_num_buckets"],
                  cfg["relative_attention_max_distance"])
    return F.embedding(b, table).permute(2, 0, 1)[None]  # [1, H, q, k]


def t5_attention(cfg, w, p, x, kv, bias):
    nh = cfg["num_heads"]
    q = heads(F.linear(x, w[p + "q.weight"]), nh)
    k = heads(F.linear(kv, w[p + "k.weight"]), nh)
    v = heads(F.linear(kv, w[p + "v.weight"]), nh)
    s = q @ k.transpose(3, 2) + bias
    return F.linear(merge(F.softmax(s, dim=-1) @ v), w[p + "o.weight"])


def t5(cfg, w, input_ids, labels, attention_mask, decoder_input_ids):
    eps = cfg["layer_norm_epsilon"]
    shared = w["shared.weight"]
    dt = shared.dtype
    mn = min_value(dt)
    B, T = input_ids.shape
    Td = decoder_input_ids.shape[1]
    enc_mask = (1.0 - attention_mask[:, None, None, :].to(dt)) * mn
    h = F.embedding(input_ids, shared)
    bias = t5_bias(cfg, w["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"], T, T, True) + enc_mask
    for i in range(cfg["num_layers"]):
        p = f"encoder.block.{i}.layer."
        x = rms_norm(h, w[p + "0.layer_norm.weight"], eps)
        h = h + t5_attention(cfg, w, p + "0.SelfAttention.", x, x, bias)
        x = rms_norm(h, w[p + "1.layer_norm.weight"], eps)
        h = h + F.linear(F.relu(F.linear(x, w[p + "1.DenseReluDense.wi.weight"])), w[p + "1.DenseReluDense.wo.weight"])
    enc = rms_norm(h, w["encoder.final_layer_norm.weight"], eps)

    seq = torch.arange(Td)
    causal = (seq[None, None, :] <= seq[None, :, None]).to(dt)[:, None]  # [1,1,Td,Td]
    dec_mask = (1.0 - causal) * mn
    h = F.embedding(decoder_input_ids, shared)
    bias = t5_bias(cfg, w["decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"], Td, Td, False) + dec_mask
    cross_bias = torch.zeros(1, cfg["num_heads"], Td, T, dtype=dt) + enc_mask
    for i in range(cfg["num_decoder_layers"]):
        p = f"decoder.block.{i}.layer."
        x = rms_norm(h, w[p + "0.layer_norm.weight"], eps)
        h = h + t5_attention(cfg, w, p + "0.SelfAttention.", x, x, bias)
        x = rms_norm(h, w[p + "1.layer_norm.weight"], eps)
        h = h + t5_attention(cfg, w, p + "1.EncDecAttention.", x, enc, cross_bias)
        x = rms_norm(h, w[p + "2.layer_norm.weight"], eps)
        h = h + F.linear(F.relu(F.linear(x, w[p + "2.DenseReluDense.wi.weight"])), w[p + "2.DenseReluDense.wo.weight"])
    h = rms_norm(h, w["decoder.final_layer_norm.weight"], eps)
    h = h * (cfg["d_model"] ** -0.5)  # tied lm_head
    logits = F.linear(h, shared)
    return ce(logits, labels), logits


def t5_shift_right(labels, start, pad):
    out = torch.zeros_like(labels)
    out[:, 1:] = labels[:, :-1]
    out[:, 0] = start
    return out.masked_fill(out == -100, pad)


def forward(cfg, w, inputs):
    a = cfg["arch"]
    ids, labels = inputs["input_ids"], inputs["labels"]
    mask = inputs.get("attention_mask", torch.ones_like(ids))
    if a == "qwen2":
        return qwen2(cfg, w, ids, labels, mask)
    if a == "gpt2":
        return gpt2(cfg, w, ids, labels, mask)
    if a == "bert":
        tt = inputs.get("token_type_ids", torch.zeros_like(ids))
        return bert(cfg, w, ids, labels, mask, tt)
    if a == "t5":
        dec = inputs.get("decoder_input_ids")
        if dec is None:
            dec = t5_shift_right(labels, cfg["decoder_start_token_id"], cfg["pad_token_id"])
        return t5(cfg, w, ids, labels, mask, dec)
    raise ValueError(a)
