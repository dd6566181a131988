/* models/bert.h — BertForMaskedLM (transformers' modeling_bert). */
#ifndef GC_MODELS_BERT_H
#define GC_MODELS_BERT_H

#include "models/model.h"

typedef struct {
  int64_t vocab_size, hidden_size, num_hidden_layers, num_attention_heads, intermediate_size;
  int64_t max_position_embeddings, type_vocab_size, pad_token_id;
  char hidden_act[GC_KEY_STRING_MAX], position_embedding_type[GC_KEY_STRING_MAX];
  double hidden_dropout_prob, attention_probs_dropout_prob, initializer_range, layer_norm_eps;
  bool tie_word_embeddings;
} gc_bert_config;

void gc_bert_build(gc_builder *b, const void *config, const gc_model_shape *shape);

#endif
