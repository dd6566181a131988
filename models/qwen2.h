/* models/qwen2.h — Qwen2ForCausalLM (transformers' modeling_qwen2). */
#ifndef GC_MODELS_QWEN2_H
#define GC_MODELS_QWEN2_H

#include "models/decode.h"
#include "models/model.h"

typedef struct {
  int64_t vocab_size, hidden_size, intermediate_size, num_hidden_layers;
  int64_t num_attention_heads, num_key_value_heads, max_position_embeddings;
  char hidden_act[GC_KEY_STRING_MAX];
  double initializer_range, rms_norm_eps, rope_theta, attention_dropout;
  bool use_cache, tie_word_embeddings, use_sliding_window;
  int64_t sliding_window, max_window_layers, bos_token_id, eos_token_id;
} gc_qwen2_config;

/* The parts the training and generation graphs share.  The decoder stack:
 * ids i64[B, T] -> final-normed hidden states [B, T, hidden]; positions
 * i64[T] or [B, T] (GC_NONE: 0..T-1); mask an HF attention_mask or GC_NONE;
 * hook NULL except when generating (models/decode.h). */
gc_val gc_qwen2_trunk(gc_builder *b, const void *config, gc_val ids, gc_val positions, gc_val mask,
                      const gc_kv_hook *hook);
/* hidden [..., hidden] -> logits [..., vocab] (tied to the embedding or lm_head). */
gc_val gc_qwen2_lm_head(gc_builder *b, const void *config, gc_val h);
int64_t gc_qwen2_max_positions(const void *config);

#endif
