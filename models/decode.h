/* models/decode.h — the generation graphs of the causal families (qwen2, gpt2).
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
 * sampling with train/sample.h).
 */
#ifndef GC_MODELS_DECODE_H
#define GC_MODELS_DECODE_H

#include "ir/tensor.h"
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

#endif
