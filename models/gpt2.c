/* GPT2LMHeadModel as a graph: transformers' modeling_gpt2, eager attention.
 *
 *   h = wte(input_ids) + wpe(0..T-1)
 *   per block:  h += c_proj(attn(split(c_attn(ln_1(h)))))      (Conv1D [in,out] weights, causal)
 *               h += c_proj(act(c_fc(ln_2(h))))
 *   logits = ln_f(h) wte^T (tied),  loss = CE(logits[:, :-1], labels[:, 1:])
 */
#include "models/gpt2.h"
#include "frontend/hf_act.h"
#include "frontend/nn.h"

#include <math.h>

static gc_val attention(gc_builder *b, const gc_gpt2_config *c, int64_t layer, gc_val x, gc_val mask,
                        double proj_std, const gc_kv_hook *hook) {
  int64_t E = c->n_embd, nh = c->n_head;
  gc_push(b, "attn");
  gc_val qkv = gc_linear(b, x, "c_attn", E, 3 * E, true, GC_LINEAR_IN_OUT);
  gc_val q = gc_split_heads(b, gc_slice(b, qkv, -1, 0, E, 1), nh);
  gc_val k = gc_split_heads(b, gc_slice(b, qkv, -1, E, 2 * E, 1), nh);
  gc_val v = gc_split_heads(b, gc_slice(b, qkv, -1, 2 * E, 3 * E, 1), nh);
  double scale = c->scale_attn_weights ? 1.0 / sqrt((double)(E / nh)) : 1.0;
  if (c->scale_attn_by_inverse_layer_idx) scale /= (double)(layer + 1);
  gc_attn_opts o = {.causal = true, .mask = mask, .scale = scale, .no_scale = scale == 1.0,
                    .dropout = c->attn_pdrop};
  if (hook) hook->fn(b, hook->ctx, layer, &k, &v, &o);
  gc_val a = gc_merge_heads(b, gc_attention(b, q, k, v, &o));
  gc_val y = gc_linear(b, a, "c_proj", E, E, true, GC_LINEAR_IN_OUT);
  gc_set_init(b, "c_proj.weight", gc_init_normal(proj_std));
  gc_pop(b);
  return gc_dropout(b, y, c->resid_pdrop);
}

static gc_val mlp(gc_builder *b, const gc_gpt2_config *c, gc_val x, double proj_std) {
  int64_t E = c->n_embd, inner = c->n_inner ? c->n_inner : 4 * E;
  gc_push(b, "mlp");
  gc_val hdn = gc_hf_activation(b, gc_linear(b, x, "c_fc", E, inner, true, GC_LINEAR_IN_OUT),
                                c->activation_function);
  gc_val y = gc_linear(b, hdn, "c_proj", inner, E, true, GC_LINEAR_IN_OUT);
  gc_set_init(b, "c_proj.weight", gc_init_normal(proj_std));
  gc_pop(b);
  return gc_dropout(b, y, c->resid_pdrop);
}

gc_val gc_gpt2_trunk(gc_builder *b, const void *config, gc_val ids, gc_val positions, gc_val mask,
                     const gc_kv_hook *hook) {
  const gc_gpt2_config *c = config;
  int64_t E = c->n_embd, V = c->vocab_size;
  gc_builder_set_init_std(b, c->initializer_range);
  double eps = c->layer_norm_epsilon;
  /* HF: c_proj weights get initializer_range / sqrt(2 * n_layer). */
  double proj_std = c->initializer_range / sqrt(2.0 * (double)(c->n_layer ? c->n_layer : 1));
  gc_push(b, "transformer");
  if (gc_is_none(positions)) positions = gc_arange(b, gc_dim(b, ids, 1), GC_I64);
  gc_val h = gc_add(b, gc_embedding(b, ids, "wte", V, E), gc_embedding(b, positions, "wpe", c->n_positions, E));
  h = gc_dropout(b, h, c->embd_pdrop);
  for (int64_t i = 0; i < c->n_layer; i++) {
    gc_push(b, "h.%lld", (long long)i);
    h = gc_add(b, h, attention(b, c, i, gc_layer_norm(b, h, "ln_1", E, eps), mask, proj_std, hook));
    h = gc_add(b, h, mlp(b, c, gc_layer_norm(b, h, "ln_2", E, eps), proj_std));
    gc_pop(b);
  }
  h = gc_layer_norm(b, h, "ln_f", E, eps);
  gc_pop(b);
  return h;
}

gc_val gc_gpt2_lm_head(gc_builder *b, const void *config, gc_val h) {
  const gc_gpt2_config *c = config;
  return gc_lm_head(b, h, c->tie_word_embeddings ? "transformer.wte.weight" : NULL, c->n_embd, c->vocab_size);
}

int64_t gc_gpt2_max_positions(const void *config) { return ((const gc_gpt2_config *)config)->n_positions; }
