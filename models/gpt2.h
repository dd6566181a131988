/* models/gpt2.h — GPT2LMHeadModel (transformers' modeling_gpt2). */
#ifndef GC_MODELS_GPT2_H
#define GC_MODELS_GPT2_H

#include "models/decode.h"
#include "models/model.h"

typedef struct {
  int64_t vocab_size, n_positions, n_embd, n_layer, n_head;
  int64_t n_inner;                     /* 0 means 4 * n_embd (HF's None) */
  char activation_function[GC_KEY_STRING_MAX];
  double resid_pdrop, embd_pdrop, attn_pdrop, layer_norm_epsilon, initializer_range;
  bool scale_attn_weights, scale_attn_by_inverse_layer_idx, tie_word_embeddings;
  int64_t bos_token_id, eos_token_id;
} gc_gpt2_config;

/* The parts the training and generation graphs share.  The block stack:
 * ids i64[B, T] -> ln_f'd hidden states [B, T, n_embd]; positions i64[T]
 * (GC_NONE: 0..T-1) pick the wpe rows; mask an HF attention_mask or GC_NONE;
 * hook NULL except when generating (models/decode.h). */
gc_val gc_gpt2_trunk(gc_builder *b, const void *config, gc_val ids, gc_val positions, gc_val mask,
                     const gc_kv_hook *hook);
/* hidden [..., n_embd] -> logits [..., vocab] (tied to wte or lm_head). */
gc_val gc_gpt2_lm_head(gc_builder *b, const void *config, gc_val h);
int64_t gc_gpt2_max_positions(const void *config);

#endif
