/* BertForMaskedLM as a graph: transformers' modeling_bert, eager attention.
 *
 *   h = LayerNorm(word(input_ids) + token_type(token_type_ids) + position(0..T-1))
 *   per layer:  h = LayerNorm(h + dense(attn(query(h), key(h), value(h))))   (bidirectional, padding mask)
 *               h = LayerNorm(h + dense(act(dense(h))))
 *   logits = LayerNorm(act(dense(h))) word^T + cls.predictions.bias,  loss = CE(logits, labels)
 */
#include "models/bert.h"
#include "frontend/hf_act.h"
#include "frontend/nn.h"

static gc_val attention(gc_builder *b, const gc_bert_config *c, gc_val h, gc_val mask) {
  int64_t H = c->hidden_size, nh = c->num_attention_heads;
  gc_push(b, "attention");
  gc_push(b, "self");
  gc_val q = gc_split_heads(b, gc_linear(b, h, "query", H, H, true, GC_LINEAR_OUT_IN), nh);
  gc_val k = gc_split_heads(b, gc_linear(b, h, "key", H, H, true, GC_LINEAR_OUT_IN), nh);
  gc_val v = gc_split_heads(b, gc_linear(b, h, "value", H, H, true, GC_LINEAR_OUT_IN), nh);
  gc_attn_opts o = {.mask = mask, .dropout = c->attention_probs_dropout_prob};
  gc_val a = gc_merge_heads(b, gc_attention(b, q, k, v, &o));
  gc_pop(b);
  gc_push(b, "output");
  a = gc_dropout(b, gc_linear(b, a, "dense", H, H, true, GC_LINEAR_OUT_IN), c->hidden_dropout_prob);
  gc_val y = gc_layer_norm(b, gc_add(b, a, h), "LayerNorm", H, c->layer_norm_eps);
  gc_pop(b);
  gc_pop(b);
  return y;
}

static gc_val feed_forward(gc_builder *b, const gc_bert_config *c, gc_val h) {
  int64_t H = c->hidden_size, I = c->intermediate_size;
  gc_push(b, "intermediate");
  gc_val m = gc_hf_activation(b, gc_linear(b, h, "dense", H, I, true, GC_LINEAR_OUT_IN), c->hidden_act);
  gc_pop(b);
  gc_push(b, "output");
  m = gc_dropout(b, gc_linear(b, m, "dense", I, H, true, GC_LINEAR_OUT_IN), c->hidden_dropout_prob);
  gc_val y = gc_layer_norm(b, gc_add(b, m, h), "LayerNorm", H, c->layer_norm_eps);
  gc_pop(b);
  return y;
}

static gc_val embeddings(gc_builder *b, const gc_bert_config *c, int64_t T, gc_val ids, gc_val types) {
  int64_t H = c->hidden_size;
  gc_push(b, "embeddings");
  gc_val word = gc_embedding_padded(b, ids, "word_embeddings", c->vocab_size, H, c->pad_token_id);
  gc_val pos = gc_embedding(b, gc_arange(b, T, GC_I64), "position_embeddings", c->max_position_embeddings, H);
  gc_val type = gc_embedding(b, types, "token_type_embeddings", c->type_vocab_size, H);
  gc_val h = gc_layer_norm(b, gc_add(b, gc_add(b, word, type), pos), "LayerNorm", H, c->layer_norm_eps);
  gc_pop(b);
  return gc_dropout(b, h, c->hidden_dropout_prob);
}

void gc_bert_build(gc_builder *b, const void *config, const gc_model_shape *s) {
  const gc_bert_config *c = config;
  int64_t B = s->batch, T = s->seq, H = c->hidden_size, V = c->vocab_size;
  if (T > c->max_position_embeddings)
    gc_builder_fail(b, "bert: seq %lld exceeds max_position_embeddings %lld", (long long)T,
                    (long long)c->max_position_embeddings);
  gc_builder_set_init_std(b, c->initializer_range);
  gc_val ids = gc_input(b, "input_ids", GC_I64, GC_SHAPE(B, T));
  gc_val labels = gc_input(b, "labels", GC_I64, GC_SHAPE(B, T));
  gc_val mask = gc_input(b, "attention_mask", GC_I64, GC_SHAPE(B, T));
  gc_val types = gc_input(b, "token_type_ids", GC_I64, GC_SHAPE(B, T));

  gc_push(b, "bert");
  gc_val h = embeddings(b, c, T, ids, types);
  gc_push(b, "encoder");
  for (int64_t i = 0; i < c->num_hidden_layers; i++) {
    gc_push(b, "layer.%lld", (long long)i);
    h = feed_forward(b, c, attention(b, c, h, mask));
    gc_pop(b);
  }
  gc_pop(b);
  gc_pop(b);

  gc_push(b, "cls");
  gc_push(b, "predictions");
  gc_push(b, "transform");
  gc_val x = gc_hf_activation(b, gc_linear(b, h, "dense", H, H, true, GC_LINEAR_OUT_IN), c->hidden_act);
  x = gc_layer_norm(b, x, "LayerNorm", H, c->layer_norm_eps);
  gc_pop(b);
  gc_val bias = gc_param(b, "bias", GC_SHAPE(V), gc_init_zeros());
  gc_val logits;
  if (c->tie_word_embeddings) {
    logits = gc_linear_fn(b, x, gc_find_param(b, "bert.embeddings.word_embeddings.weight"), bias,
                          GC_LINEAR_OUT_IN);
  } else {
    gc_push(b, "decoder");
    logits = gc_linear_fn(b, x, gc_param(b, "weight", GC_SHAPE(V, H), gc_init_normal(c->initializer_range)),
                          bias, GC_LINEAR_OUT_IN);
    gc_pop(b);
  }
  gc_pop(b);
  gc_pop(b);
  gc_val loss = gc_cross_entropy(b, gc_reshape(b, logits, GC_SHAPE(B * T, V)),
                                 gc_reshape(b, labels, GC_SHAPE(B * T)), -100);
  gc_output(b, "loss", gc_label(b, loss, "loss"));
  gc_output(b, "logits", logits);
}
