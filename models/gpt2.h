/* models/gpt2.h — GPT2LMHeadModel (transformers' modeling_gpt2). */
#ifndef GC_MODELS_GPT2_H
#define GC_MODELS_GPT2_H

#include "models/model.h"

typedef struct {
  int64_t vocab_size, n_positions, n_embd, n_layer, n_head;
  int64_t n_inner;                     /* 0 means 4 * n_embd (HF's None) */
  char activation_function[GC_KEY_STRING_MAX];
  double resid_pdrop, embd_pdrop, attn_pdrop, layer_norm_epsilon, initializer_range;
  bool scale_attn_weights, scale_attn_by_inverse_layer_idx, tie_word_embeddings;
  int64_t bos_token_id, eos_token_id;
} gc_gpt2_config;

void gc_gpt2_build(gc_builder *b, const void *config, const gc_model_shape *shape);

#endif
