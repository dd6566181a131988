/* models/t5.h — T5ForConditionalGeneration (transformers' modeling_t5). */
#ifndef GC_MODELS_T5_H
#define GC_MODELS_T5_H

#include "models/model.h"

typedef struct {
  int64_t vocab_size, d_model, d_kv, d_ff, num_layers, num_decoder_layers, num_heads;
  int64_t relative_attention_num_buckets, relative_attention_max_distance;
  double dropout_rate, layer_norm_epsilon, initializer_factor;
  char feed_forward_proj[GC_KEY_STRING_MAX];
  bool tie_word_embeddings, is_encoder_decoder, use_cache;
  int64_t pad_token_id, eos_token_id, decoder_start_token_id;
} gc_t5_config;

void gc_t5_build(gc_builder *b, const void *config, const gc_model_shape *shape);

#endif
