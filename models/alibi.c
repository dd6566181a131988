/* ALiBi LM: the worked example of docs/models.md — a small decoder-only
 * language model that replaces position embeddings with ALiBi (Press et al.,
 * "Train Short, Test Long"): each head adds -slope * (query - key) to its
 * attention scores, with BLOOM's slopes.  Otherwise Llama-like: pre-norm
 * RMSNorm, SwiGLU MLP, tied input/output embeddings.
 *
 *   h = embed_tokens(input_ids)
 *   per layer:  h += o_proj(attn(q_proj(rms(h)), k_proj(..), v_proj(..); bias = alibi))   (causal)
 *               h += down_proj(silu(gate_proj(rms(h))) * up_proj(rms(h)))
 *   logits = norm(h) embed_tokens^T,  loss = CE(logits[:, :-1], labels[:, 1:])
 */
#include "frontend/nn.h"
#include "models/model.h"

#include <math.h>

typedef struct {
  int64_t vocab_size, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads;
  int64_t max_position_embeddings;
  double rms_norm_eps, initializer_range;
  bool tie_word_embeddings;
} alibi_config;

/* ---- the config: keys, defaults, presets, checks ------------------------ */

#define KEY(kind, field, help) {#field, GC_KEY_##kind, offsetof(alibi_config, field), NULL, help},
static const gc_config_key keys[] = {
    KEY(INT, vocab_size, "vocabulary size")
    KEY(INT, hidden_size, "model width")
    KEY(INT, intermediate_size, "MLP width")
    KEY(INT, num_hidden_layers, "decoder layers")
    KEY(INT, num_attention_heads, "attention heads")
    KEY(INT, max_position_embeddings, "longest sequence trained on (ALiBi extrapolates beyond)")
    KEY(FLOAT, rms_norm_eps, "RMSNorm epsilon")
    KEY(FLOAT, initializer_range, "std of the normal init")
    KEY(BOOL, tie_word_embeddings, "lm_head shares model.embed_tokens.weight")
    {NULL, 0, 0, NULL, NULL},
};
#undef KEY

static const alibi_config defaults = {
    .vocab_size = 512, .hidden_size = 128, .intermediate_size = 384, .num_hidden_layers = 4,
    .num_attention_heads = 4, .max_position_embeddings = 1024, .rms_norm_eps = 1e-6,
    .initializer_range = 0.02, .tie_word_embeddings = true,
};

static const gc_model_preset presets[] = {
    {"alibi_tiny", "the docs/models.md example: ALiBi attention, 4 layers of width 128", ""},
    {NULL, NULL, NULL},
};

static int validate(const void *config, gc_diag *d) {
  const alibi_config *c = config;
  if (c->vocab_size < 1 || c->hidden_size < 1 || c->intermediate_size < 1 || c->num_hidden_layers < 0 ||
      c->num_attention_heads < 1)
    return gc_diag_set(d, "alibi: sizes, layer and head counts must be positive");
  if (c->hidden_size % c->num_attention_heads)
    return gc_diag_set(d, "alibi: hidden_size %lld is not divisible by num_attention_heads %lld",
                       (long long)c->hidden_size, (long long)c->num_attention_heads);
  return 0;
}

/* ---- the graph ----------------------------------------------------------- */

/* BLOOM's ALiBi slope of head h (0-based) out of n. */
static double alibi_slope(int64_t h, int64_t n) {
  int64_t closest = 1;
  while (closest * 2 <= n) closest *= 2;
  double base = pow(2.0, -pow(2.0, -(log2((double)closest) - 3)));
  if (h < closest) return pow(base, (double)(h + 1));
  double extra = pow(2.0, -pow(2.0, -(log2((double)(2 * closest)) - 3)));
  return pow(extra, (double)(2 * (h - closest) + 1));
}

/* [1, H, T, T]: -slope_h * (i - j); the causal mask hides j > i. */
static gc_val alibi_bias(gc_builder *b, int64_t H, int64_t T) {
  gc_val i = gc_iota(b, GC_FLOATX, GC_SHAPE(T, T), 0);
  gc_val j = gc_iota(b, GC_FLOATX, GC_SHAPE(T, T), 1);
  gc_val dist = gc_sub(b, j, i); /* -(i - j) */
  gc_val slopes[64];
  int64_t n = H < 64 ? H : 64;
  for (int64_t h = 0; h < n; h++) slopes[h] = gc_const(b, alibi_slope(h, H), GC_FLOATX, GC_SHAPE(1, 1, 1));
  gc_val slope = n == 1 ? slopes[0] : gc_concat(b, (int)n, slopes, 0); /* [H, 1, 1] */
  if (H > 64) gc_builder_fail(b, "alibi: at most 64 heads");
  return gc_unsqueeze(b, gc_mul(b, slope, dist), 0);
}

static gc_val attention(gc_builder *b, const alibi_config *c, gc_val x, gc_val bias, gc_val mask) {
  int64_t H = c->hidden_size, nh = c->num_attention_heads;
  gc_push(b, "self_attn");
  gc_val q = gc_split_heads(b, gc_linear(b, x, "q_proj", H, H, false, GC_LINEAR_OUT_IN), nh);
  gc_val k = gc_split_heads(b, gc_linear(b, x, "k_proj", H, H, false, GC_LINEAR_OUT_IN), nh);
  gc_val v = gc_split_heads(b, gc_linear(b, x, "v_proj", H, H, false, GC_LINEAR_OUT_IN), nh);
  gc_attn_opts o = {.causal = true, .mask = mask, .bias = bias};
  gc_val y = gc_linear(b, gc_merge_heads(b, gc_attention(b, q, k, v, &o)), "o_proj", H, H, false, GC_LINEAR_OUT_IN);
  gc_pop(b);
  return y;
}

static void build(gc_builder *b, const void *config, const gc_model_shape *s) {
  const alibi_config *c = config;
  int64_t B = s->batch, T = s->seq, H = c->hidden_size, V = c->vocab_size;
  gc_builder_set_init_std(b, c->initializer_range);
  gc_val ids = gc_input(b, "input_ids", GC_I64, GC_SHAPE(B, T));
  gc_val labels = gc_input(b, "labels", GC_I64, GC_SHAPE(B, T));
  gc_val mask = gc_input(b, "attention_mask", GC_I64, GC_SHAPE(B, T));

  gc_push(b, "model");
  gc_val h = gc_embedding(b, ids, "embed_tokens", V, H);
  gc_val bias = alibi_bias(b, c->num_attention_heads, T);
  for (int64_t i = 0; i < c->num_hidden_layers; i++) {
    gc_push(b, "layers.%lld", (long long)i);
    h = gc_add(b, h, attention(b, c, gc_rms_norm(b, h, "input_layernorm", H, c->rms_norm_eps), bias, mask));
    h = gc_add(b, h, gc_swiglu_mlp(b, gc_rms_norm(b, h, "post_attention_layernorm", H, c->rms_norm_eps), "mlp", H,
                                   c->intermediate_size));
    gc_pop(b);
  }
  h = gc_rms_norm(b, h, "norm", H, c->rms_norm_eps);
  gc_pop(b);

  gc_val logits = gc_lm_head(b, h, c->tie_word_embeddings ? "model.embed_tokens.weight" : NULL, H, V);
  gc_output(b, "loss", gc_label(b, gc_causal_lm_loss(b, logits, labels), "loss"));
  gc_output(b, "logits", logits);
}

static int64_t vocab_size(const void *config) { return ((const alibi_config *)config)->vocab_size; }

const gc_model_family gc_family_alibi = {
    .name = "alibi", .hf_class = "(none: the docs/models.md example)", .task = GC_MODEL_CAUSAL_LM,
    .config_size = sizeof(alibi_config), .defaults = &defaults, .keys = keys, .presets = presets,
    .validate = validate, .build = build, .vocab_size = vocab_size, .aliases = NULL,
};
