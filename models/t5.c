/* T5ForConditionalGeneration as a graph: transformers' modeling_t5.
 *
 *   encoder: h = shared(input_ids); per block: h += SelfAttention(rms(h)) (relative bias, no scaling);
 *            h += ff(rms(h)); enc = rms(h)
 *   decoder: h = shared(decoder_input_ids); per block: h += SelfAttention(rms(h)) (causal);
 *            h += EncDecAttention(rms(h), enc); h += ff(rms(h)); h = rms(h)
 *   logits = (h * d_model^-0.5) shared^T (tied),  loss = CE(logits, labels)
 * The position bias is computed once (block 0's relative_attention_bias) and
 * shared by every block, as in HF.
 */
#include "models/t5.h"
#include "frontend/hf_act.h"
#include "frontend/nn.h"

#include <math.h>
#include <string.h>

static gc_val attention(gc_builder *b, const gc_t5_config *c, const char *name, gc_val x, gc_val kv,
                        const gc_attn_opts *o) {
  int64_t D = c->d_model, inner = c->num_heads * c->d_kv;
  double f = c->initializer_factor;
  gc_push(b, "%s", name);
  gc_val q = gc_split_heads(b, gc_linear(b, x, "q", D, inner, false, GC_LINEAR_OUT_IN), c->num_heads);
  gc_val k = gc_split_heads(b, gc_linear(b, kv, "k", D, inner, false, GC_LINEAR_OUT_IN), c->num_heads);
  gc_val v = gc_split_heads(b, gc_linear(b, kv, "v", D, inner, false, GC_LINEAR_OUT_IN), c->num_heads);
  gc_val y = gc_linear(b, gc_merge_heads(b, gc_attention(b, q, k, v, o)), "o", inner, D, false, GC_LINEAR_OUT_IN);
  gc_set_init(b, "q.weight", gc_init_normal(f * pow((double)(D * c->d_kv), -0.5)));
  gc_set_init(b, "k.weight", gc_init_normal(f * pow((double)D, -0.5)));
  gc_set_init(b, "v.weight", gc_init_normal(f * pow((double)D, -0.5)));
  gc_set_init(b, "o.weight", gc_init_normal(f * pow((double)inner, -0.5)));
  gc_pop(b);
  return y;
}

/* T5DenseActDense / T5DenseGatedActDense. */
static gc_val feed_forward(gc_builder *b, const gc_t5_config *c, gc_val x) {
  int64_t D = c->d_model, F = c->d_ff;
  double f = c->initializer_factor;
  const char *proj = c->feed_forward_proj;
  bool gated = strncmp(proj, "gated-", 6) == 0;
  const char *act = gated ? proj + 6 : proj;
  if (!strcmp(proj, "gated-gelu")) act = "gelu_new";
  gc_val y;
  if (gated) {
    gc_push(b, "DenseReluDense");
    gc_val g = gc_hf_activation(b, gc_linear(b, x, "wi_0", D, F, false, GC_LINEAR_OUT_IN), act);
    gc_val l = gc_linear(b, x, "wi_1", D, F, false, GC_LINEAR_OUT_IN);
    gc_val hdn = gc_dropout(b, gc_mul(b, g, l), c->dropout_rate);
    y = gc_linear(b, hdn, "wo", F, D, false, GC_LINEAR_OUT_IN);
    gc_set_init(b, "wi_0.weight", gc_init_normal(f * pow((double)D, -0.5)));
    gc_set_init(b, "wi_1.weight", gc_init_normal(f * pow((double)D, -0.5)));
  } else {
    gc_push(b, "DenseReluDense");
    gc_val hdn = gc_hf_activation(b, gc_linear(b, x, "wi", D, F, false, GC_LINEAR_OUT_IN), act);
    y = gc_linear(b, gc_dropout(b, hdn, c->dropout_rate), "wo", F, D, false, GC_LINEAR_OUT_IN);
    gc_set_init(b, "wi.weight", gc_init_normal(f * pow((double)D, -0.5)));
  }
  gc_set_init(b, "wo.weight", gc_init_normal(f * pow((double)F, -0.5)));
  gc_pop(b);
  return y;
}

static gc_val norm_in(gc_builder *b, const gc_t5_config *c, gc_val h) {
  return gc_rms_norm(b, h, "layer_norm", c->d_model, c->layer_norm_epsilon);
}

/* Residual sub-layer "layer.<k>" of a block: h + dropout(attention(rms(h)))
 * against itself (kv GC_NONE) or against the encoder's output. */
static gc_val attention_layer(gc_builder *b, const gc_t5_config *c, int k, const char *name, gc_val h, gc_val kv,
                              const gc_attn_opts *o) {
  gc_push(b, "layer.%d", k);
  gc_val x = norm_in(b, c, h);
  gc_val y = attention(b, c, name, x, gc_is_none(kv) ? x : kv, o);
  gc_pop(b);
  return gc_add(b, h, gc_dropout(b, y, c->dropout_rate));
}

/* Residual sub-layer "layer.<k>": h + dropout(ff(rms(h))). */
static gc_val feed_forward_layer(gc_builder *b, const gc_t5_config *c, int k, gc_val h) {
  gc_push(b, "layer.%d", k);
  gc_val y = feed_forward(b, c, norm_in(b, c, h));
  gc_pop(b);
  return gc_add(b, h, gc_dropout(b, y, c->dropout_rate));
}

/* Block 0's relative position bias [1, H, T, T], shared by every block of
 * the stack (bidirectional in the encoder, causal buckets in the decoder). */
static gc_val position_bias(gc_builder *b, const gc_t5_config *c, int64_t T, bool bidirectional) {
  gc_val bias = gc_t5_relative_bias(b, "block.0.layer.0.SelfAttention.relative_attention_bias", T, T, c->num_heads,
                                    (int)c->relative_attention_num_buckets,
                                    (int)c->relative_attention_max_distance, bidirectional);
  gc_set_init(b, "block.0.layer.0.SelfAttention.relative_attention_bias.weight",
              gc_init_normal(c->initializer_factor * pow((double)c->d_model, -0.5)));
  return bias;
}

/* The stack's end: final_layer_norm, then (outside the stack's scope) dropout. */
static gc_val final_norm(gc_builder *b, const gc_t5_config *c, gc_val h) {
  return gc_rms_norm(b, h, "final_layer_norm", c->d_model, c->layer_norm_epsilon);
}

static gc_val encoder(gc_builder *b, const gc_t5_config *c, gc_val shared, gc_val ids, gc_val mask, int64_t T) {
  gc_push(b, "encoder");
  gc_val h = gc_dropout(b, gc_gather(b, shared, ids), c->dropout_rate);
  gc_attn_opts self = {.mask = mask, .no_scale = true, .dropout = c->dropout_rate,
                       .bias = position_bias(b, c, T, true)};
  for (int64_t i = 0; i < c->num_layers; i++) {
    gc_push(b, "block.%lld", (long long)i);
    h = attention_layer(b, c, 0, "SelfAttention", h, GC_NONE, &self);
    h = feed_forward_layer(b, c, 1, h);
    gc_pop(b);
  }
  h = final_norm(b, c, h);
  gc_pop(b);
  return gc_dropout(b, h, c->dropout_rate);
}

static gc_val decoder(gc_builder *b, const gc_t5_config *c, gc_val shared, gc_val ids, gc_val enc,
                      gc_val enc_mask, int64_t Td) {
  gc_push(b, "decoder");
  gc_val h = gc_dropout(b, gc_gather(b, shared, ids), c->dropout_rate);
  gc_attn_opts self = {.causal = true, .no_scale = true, .dropout = c->dropout_rate,
                       .bias = position_bias(b, c, Td, false)};
  gc_attn_opts cross = {.mask = enc_mask, .no_scale = true, .dropout = c->dropout_rate};
  for (int64_t i = 0; i < c->num_decoder_layers; i++) {
    gc_push(b, "block.%lld", (long long)i);
    h = attention_layer(b, c, 0, "SelfAttention", h, GC_NONE, &self);
    h = attention_layer(b, c, 1, "EncDecAttention", h, enc, &cross);
    h = feed_forward_layer(b, c, 2, h);
    gc_pop(b);
  }
  h = final_norm(b, c, h);
  gc_pop(b);
  return gc_dropout(b, h, c->dropout_rate);
}

void gc_t5_build(gc_builder *b, const void *config, const gc_model_shape *s) {
  const gc_t5_config *c = config;
  int64_t B = s->batch, T = s->seq, Td = s->dec_seq > 0 ? s->dec_seq : s->seq, V = c->vocab_size;
  double f = c->initializer_factor;
  gc_val ids = gc_input(b, "input_ids", GC_I64, GC_SHAPE(B, T));
  gc_val labels = gc_input(b, "labels", GC_I64, GC_SHAPE(B, Td));
  gc_val mask = gc_input(b, "attention_mask", GC_I64, GC_SHAPE(B, T));
  gc_val dec_ids = gc_input(b, "decoder_input_ids", GC_I64, GC_SHAPE(B, Td));
  gc_val shared = gc_param(b, "shared.weight", GC_SHAPE(V, c->d_model), gc_init_normal(f * 1.0));

  gc_val enc = encoder(b, c, shared, ids, mask, T);
  gc_val h = decoder(b, c, shared, dec_ids, enc, mask, Td);
  gc_val logits;
  if (c->tie_word_embeddings) {
    h = gc_mulf(b, h, pow((double)c->d_model, -0.5));
    logits = gc_linear_fn(b, h, shared, GC_NONE, GC_LINEAR_OUT_IN);
  } else {
    logits = gc_linear(b, h, "lm_head", c->d_model, V, false, GC_LINEAR_OUT_IN);
    gc_set_init(b, "lm_head.weight", gc_init_normal(f * 1.0));
  }
  gc_val loss = gc_cross_entropy(b, gc_reshape(b, logits, GC_SHAPE(B * Td, V)),
                                 gc_reshape(b, labels, GC_SHAPE(B * Td)), -100);
  gc_output(b, "loss", gc_label(b, loss, "loss"));
  gc_output(b, "logits", logits);
}
