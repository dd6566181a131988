/* models/decode.h — text generation for the causal families (qwen2, gpt2).
 *
 * Two graphs per model, both batch 1, sharing the weights (params by HF
 * name) with the training graph and a KV cache held as params:
 *
 *   cache.<layer>.k, cache.<layer>.v   float [1, Hkv, max_len, D]
 *
 *   prefill  inputs  input_ids i64[1, P]
 *            outputs logits [1, V]  (the last prompt token's)
 *            updates every cache param: slots 0..P-1 hold the prompt's keys
 *            and values (after RoPE for qwen2), the rest zeros.
 *   decode   inputs  input_ids i64[1, 1], position i64[] (the new token's index)
 *            outputs logits [1, V]  (the new token's)
 *            updates every cache param: slot `position` written with
 *            where(iota == position, new, cache); attention reads all max_len
 *            slots with a mask keeping slots <= position.
 *
 * The graphs are built from the family's trunk and lm_head — the same code
 * the training graph uses (models/model.h) — with a gc_kv_hook, so generation computes what the training graph does:
 * greedy decoding with the cache gives the tokens a full recomputation gives.
 *
 * A gc_decoder runs the graphs with the interpreter, holding the cache; and
 * gc_generate is the whole loop (prefill, then one decode step per token,
 * sampling with frontend/sample.h).
 */
#ifndef GC_MODELS_DECODE_H
#define GC_MODELS_DECODE_H

#include "backends/tensor.h"
#include "frontend/nn.h"
#include "models/model.h"

#include <stdbool.h>
#include <stdint.h>

/* ---- the hook the family builders call -------------------------------- */

/* Called by a layer's attention with its k, v [B, Hkv, T, D] (after RoPE)
 * and attention options, before attending; may record cache writes and
 * replace k, v and the options.  NULL in the training graph. */
typedef struct gc_kv_hook {
  void (*fn)(gc_builder *b, void *ctx, int64_t layer, gc_val *k, gc_val *v, gc_attn_opts *o);
  void *ctx;
} gc_kv_hook;

/* The cache hook (models/kv_cache.c).  With `position` GC_NONE (prefill) it
 * writes k, v padded to max_len into cache.<layer>.{k,v} and attends as
 * given; with position an i64[] value (decode, T = 1) it writes the slot,
 * attends over the whole cache with slots <= position kept. */
typedef struct {
  gc_val position;
  int64_t max_len;
} gc_kv_cache;
void gc_kv_cache_fn(gc_builder *b, void *ctx, int64_t layer, gc_val *k, gc_val *v, gc_attn_opts *o);

/* ---- graph builders ---------------------------------------------------- */

/* Build into b (errors recorded in the builder) from a causal family's trunk
 * and lm_head (models/model.h) with the cache hook. */
void gc_decode_graph_prefill(gc_builder *b, const gc_model_family *f, const void *config, int64_t prompt_len,
                             int64_t max_len);
void gc_decode_graph_step(gc_builder *b, const gc_model_family *f, const void *config, int64_t max_len);

/* True for the families with a trunk and lm_head (qwen2, gpt2). */
bool gc_decode_supported(const gc_model_config *c);
/* The graphs for a config: 1 <= prompt_len <= max_len <= the family's
 * positions.  The caller frees them (gc_graph_free); NULL + message. */
gc_graph *gc_decode_build_prefill(const gc_model_config *c, int64_t prompt_len, int64_t max_len,
                                  gc_diag *d);
gc_graph *gc_decode_build_step(const gc_model_config *c, int64_t max_len, gc_diag *d);

/* ---- running them ------------------------------------------------------ */

typedef struct gc_decoder gc_decoder;

/* A decoder for up to max_len positions (prompt + generated).  `params`
 * holds the weights by HF name; the decoder borrows them (the map and its
 * tensors must outlive the decoder and are never modified) and owns the
 * cache.  NULL + message (unsupported family, bad max_len). */
gc_decoder *gc_decoder_new(const gc_model_config *c, const gc_tensor_map *params, int64_t max_len,
                           gc_diag *d);
void gc_decoder_free(gc_decoder *s);
/* Run the prompt (1 <= n <= max_len) from position 0, resetting the cache;
 * logits[vocab] receives the last token's logits.  0 or -1 + message. */
int gc_decoder_prefill(gc_decoder *s, const int64_t *ids, int64_t n, double *logits, gc_diag *d);
/* Feed one token at the next position (after a prefill; position < max_len);
 * logits[vocab] receives its logits.  0 or -1 + message. */
int gc_decoder_step(gc_decoder *s, int64_t id, double *logits, gc_diag *d);
int64_t gc_decoder_position(const gc_decoder *s);   /* tokens in the cache */
int64_t gc_decoder_vocab(const gc_decoder *s);

typedef struct {
  int64_t max_new;      /* tokens to generate (>= 0) */
  double temperature;   /* 0: greedy (argmax) */
  double top_p;         /* nucleus mass in (0, 1]; 1: no filtering */
  uint64_t seed;        /* the sampler's gc_rng seed */
  int64_t eos_id;       /* stop after generating this id; -1: never stop early */
} gc_generate_opts;

/* Prefill the prompt (n_prompt >= 1), then sample up to o->max_new tokens
 * into out[] (room for max_new), one decode step each; prompt + max_new must
 * fit the family's positions.  Returns the count generated (< max_new only
 * when eos_id was generated, which is included), or -1 + message. */
int64_t gc_generate(const gc_model_config *c, const gc_tensor_map *params, const int64_t *prompt,
                    int64_t n_prompt, const gc_generate_opts *o, int64_t *out, gc_diag *d);

#endif
