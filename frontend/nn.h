/* frontend/nn.h — neural-network building blocks made of primitive ops.
 *
 * Blocks that own weights take a `name`: it is pushed as a scope while the
 * block is built, so its params are "<scope>.<name>.weight" / ".bias" (HF
 * names when the caller's scopes mirror HF modules) and its nodes are
 * labelled "<scope>.<name>".  Weights are created with HF's default init
 * rules (normal(gc_builder_init_std) for matrices and embeddings, zeros for
 * biases, ones for norm weights); change one with gc_set_init().
 *
 * Everything computes in the dtype of its input, so f32 and f64 graphs come
 * from the same code.  Errors follow builder.h: recorded once, later calls
 * return GC_NONE.
 *
 * Shapes: B batch, T (Tq, Tk) sequence, H heads, D head dim, V vocabulary.
 */
#ifndef GC_NN_H
#define GC_NN_H

#include "frontend/builder.h"

/* ---- linear layers and embeddings ------------------------------------- */

typedef enum {
  GC_LINEAR_OUT_IN,   /* weight [out, in]: torch nn.Linear (y = x W^T + b) */
  GC_LINEAR_IN_OUT,   /* weight [in, out]: GPT-2's Conv1D (y = x W + b) */
} gc_linear_layout;

/* x [..., in] -> [..., out]; params name.weight and (if bias) name.bias. */
gc_val gc_linear(gc_builder *b, gc_val x, const char *name, int64_t in, int64_t out, bool bias,
                 gc_linear_layout layout);
/* The same with given weight (and bias, or GC_NONE). */
gc_val gc_linear_fn(gc_builder *b, gc_val x, gc_val weight, gc_val bias, gc_linear_layout layout);

/* ids (i32/i64, any shape) -> ids.shape + [dim]; param name.weight [num, dim].
 * Learned absolute positions are an embedding of gc_arange(b, T, GC_I64). */
gc_val gc_embedding(gc_builder *b, gc_val ids, const char *name, int64_t num, int64_t dim);

/* The same as PyTorch's nn.Embedding(num, dim, padding_idx): positions whose
 * id is padding_idx take the row's value but pass no gradient back to it. */
gc_val gc_embedding_padded(gc_builder *b, gc_val ids, const char *name, int64_t num, int64_t dim,
                           int64_t padding_idx);
/* x's value, with a zero gradient (IR op stop_gradient). */
gc_val gc_stop_gradient(gc_builder *b, gc_val x);

/* A language-model head, hidden [..., width] -> logits [..., vocab], no bias:
 * the embedding param `tied` (full name) reused as [vocab, width] when it is
 * non-NULL, else a new param "<scope>.lm_head.weight". */
gc_val gc_lm_head(gc_builder *b, gc_val h, const char *tied, int64_t width, int64_t vocab);

/* ---- normalisation ----------------------------------------------------- */

/* nn.LayerNorm over the last dim: (x - mean) / sqrt(var + eps) * weight + bias
 * (biased variance); params name.weight (ones), name.bias (zeros). */
gc_val gc_layer_norm(gc_builder *b, gc_val x, const char *name, int64_t dim, double eps);
gc_val gc_layer_norm_fn(gc_builder *b, gc_val x, gc_val weight, gc_val bias, double eps);

/* HF Qwen2RMSNorm / T5LayerNorm: weight * x / sqrt(mean(x^2, last dim) + eps);
 * param name.weight (ones).  Computed in the graph's dtype (f32 for f32). */
gc_val gc_rms_norm(gc_builder *b, gc_val x, const char *name, int64_t dim, double eps);
gc_val gc_rms_norm_fn(gc_builder *b, gc_val x, gc_val weight, double eps);

/* ---- activations ------------------------------------------------------- */

typedef enum {
  GC_GELU_ERF,    /* 0.5 x (1 + erf(x / sqrt 2)): nn.GELU(), BERT */
  GC_GELU_TANH,   /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))): gelu_new, GPT-2 */
} gc_gelu_form;

gc_val gc_gelu(gc_builder *b, gc_val x, gc_gelu_form form);
gc_val gc_silu(gc_builder *b, gc_val x);     /* x * sigmoid(x) */
gc_val gc_relu(gc_builder *b, gc_val x);     /* max(x, 0) */

/* Qwen2MLP / LlamaMLP: down_proj(silu(gate_proj(x)) * up_proj(x)), no biases;
 * params name.{gate,up,down}_proj.weight. */
gc_val gc_swiglu_mlp(gc_builder *b, gc_val x, const char *name, int64_t hidden, int64_t intermediate);

/* ---- softmax and losses ------------------------------------------------ */

/* Max-subtracted, along `axis` (negative allowed). */
gc_val gc_softmax(gc_builder *b, gc_val x, int axis);
gc_val gc_log_softmax(gc_builder *b, gc_val x, int axis);

/* logits [N, V] (or [..., V]) and integer labels [N] (or [...]); the mean of
 * -log_softmax(logits)[label] over labels != ignore_index (HF: -100); 0 (not
 * NaN) when every label is ignored.  A float scalar.  Picks the label with
 * eq(iota, label) so the whole loss fuses. */
gc_val gc_cross_entropy(gc_builder *b, gc_val logits, gc_val labels, int64_t ignore_index);
/* Causal LM loss as HF computes it: logits [B, T, V] at position t predict
 * labels [B, T] at t + 1 (shift inside), ignore index -100. */
gc_val gc_causal_lm_loss(gc_builder *b, gc_val logits, gc_val labels);

/* ---- dropout ----------------------------------------------------------- */

/* Inverted dropout with the builder's training mode (gc_builder_set_training):
 * x itself in eval mode or when p == 0; else each element is zeroed with
 * probability p and the rest scaled by 1 / (1 - p).  Each call site gets seed
 * base + ordinal, so sites differ. */
gc_val gc_dropout(gc_builder *b, gc_val x, double p);
/* Explicit form: always active (unless p == 0). */
gc_val gc_dropout_ex(gc_builder *b, gc_val x, double p, uint64_t seed, gc_val counter);

/* ---- attention --------------------------------------------------------- */

/* x [B, T, H*D] -> [B, H, T, D] (view + transpose(1, 2)) and back. */
gc_val gc_split_heads(gc_builder *b, gc_val x, int64_t n_heads);
gc_val gc_merge_heads(gc_builder *b, gc_val x);
/* HF repeat_kv: [B, Hkv, T, D] -> [B, Hkv * n_rep, T, D], head h of the
 * result is kv head h / n_rep. */
gc_val gc_repeat_kv(gc_builder *b, gc_val x, int64_t n_rep);

typedef struct {
  bool causal;       /* query i sees keys j <= i + (Tk - Tq) */
  /* Padding mask: [B, Tk] (HF attention_mask: nonzero keeps a key), or a
   * bool/number tensor broadcastable to [B, H, Tq, Tk]; GC_NONE for none. */
  gc_val mask;
  /* Added to the scores before masking (T5's position bias [1, H, Tq, Tk]);
   * GC_NONE for none. */
  gc_val bias;
  bool no_scale;     /* T5: scores are not scaled */
  double scale;      /* 0: 1 / sqrt(D) */
  double dropout;    /* on the probabilities, in training mode only */
  /* Grouped-query heads read their kv head in place: the scores and the
   * weighted values as dots whose kv operand is broadcast over the group
   * ([B, Hkv, 1, T, D] against q as [B, Hkv, Hq/Hkv, Tq, D]) rather than k
   * and v repeated into [B, Hq, Tk, D] copies (a decode step's KV cache is
   * not copied per token).  The same values; off: HF's repeat_kv. */
  bool kv_in_place;
} gc_attn_opts;

/* Scaled dot-product attention.  q [B, Hq, Tq, D]; k, v [B, Hkv, Tk, D] with
 * Hq a multiple of Hkv (grouped-query: kv heads are repeated after the
 * transpose, as HF's repeat_kv); -> [B, Hq, Tq, D].  Masked scores are set to
 * the dtype's lowest finite value (as HF), so a fully masked row averages
 * instead of giving NaN.  opts may be NULL (bidirectional, no mask). */
gc_val gc_attention(gc_builder *b, gc_val q, gc_val k, gc_val v, const gc_attn_opts *opts);

/* ---- positions --------------------------------------------------------- */

/* Rotary tables for HF's rotate_half convention: inv_freq[i] = 1 / theta^(2i/D),
 * freqs = pos * inv_freq, emb = cat(freqs, freqs); cos/sin = cos/sin(emb).
 * positions: integer [T] or [B, T]; GC_NONE means 0..T-1 with T = n_pos.
 * Results [T, D] or [B, T, D] in the float dtype, computed in the graph. */
void gc_rope_tables(gc_builder *b, gc_val positions, int64_t n_pos, int64_t head_dim, double theta,
                    gc_val *cos, gc_val *sin);
/* x [B, H, T, D]: x * cos + rotate_half(x) * sin, where rotate_half(x) =
 * cat(-x[..., D/2:], x[..., :D/2]) (dim i pairs with i + D/2).  cos/sin from
 * gc_rope_tables ([T, D] or [B, T, D], unsqueezed on the head axis). */
gc_val gc_rope_apply(gc_builder *b, gc_val x, gc_val cos, gc_val sin);
/* Both: positions as above (GC_NONE: 0..T-1 with T from x). */
gc_val gc_rope(gc_builder *b, gc_val x, gc_val positions, double theta);

/* HF T5's _relative_position_bucket for one relative position (memory -
 * query), computed as torch does in f32. */
int64_t gc_t5_bucket(int64_t relative_position, bool bidirectional, int num_buckets, int max_distance);
/* The same in the graph: i64 [Tq, Tk] buckets of (k - q). */
gc_val gc_t5_buckets(gc_builder *b, int64_t tq, int64_t tk, bool bidirectional, int num_buckets,
                     int max_distance);
/* T5 compute_bias: param name.weight [num_buckets, n_heads] (HF's
 * relative_attention_bias), looked up by bucket -> [1, H, Tq, Tk], to pass as
 * gc_attn_opts.bias.  bidirectional in the encoder, not in the decoder. */
gc_val gc_t5_relative_bias(gc_builder *b, const char *name, int64_t tq, int64_t tk, int64_t n_heads,
                           int num_buckets, int max_distance, bool bidirectional);

#endif
