/* Qwen2ForCausalLM as a graph: transformers' modeling_qwen2, eager attention.
 *
 *   h = embed_tokens(input_ids)
 *   per layer:  h += o_proj(attn(rope(q_proj(rms(h))), rope(k_proj(..)), v_proj(..)))   (causal, GQA)
 *               h += down_proj(silu(gate_proj(rms(h))) * up_proj(rms(h)))
 *   logits = lm_head(norm(h)),  loss = CE(logits[:, :-1], labels[:, 1:])
 */
#include "models/qwen2.h"
#include "frontend/hf_act.h"
#include "frontend/nn.h"

static gc_val attention(gc_builder *b, const gc_qwen2_config *c, int64_t layer, gc_val x, gc_val cos,
                        gc_val sin, gc_val mask, const gc_kv_hook *hook) {
  int64_t H = c->hidden_size, nh = c->num_attention_heads, nkv = c->num_key_value_heads, hd = H / nh;
  gc_push(b, "self_attn");
  gc_val q = gc_split_heads(b, gc_linear(b, x, "q_proj", H, nh * hd, true, GC_LINEAR_OUT_IN), nh);
  gc_val k = gc_split_heads(b, gc_linear(b, x, "k_proj", H, nkv * hd, true, GC_LINEAR_OUT_IN), nkv);
  gc_val v = gc_split_heads(b, gc_linear(b, x, "v_proj", H, nkv * hd, true, GC_LINEAR_OUT_IN), nkv);
  q = gc_rope_apply(b, q, cos, sin);
  k = gc_rope_apply(b, k, cos, sin);
  gc_attn_opts o = {.causal = true, .mask = mask, .dropout = c->attention_dropout};
  if (hook) hook->fn(b, hook->ctx, layer, &k, &v, &o);
  gc_val a = gc_merge_heads(b, gc_attention(b, q, k, v, &o));
  gc_val y = gc_linear(b, a, "o_proj", nh * hd, H, false, GC_LINEAR_OUT_IN);
  gc_pop(b);
  return y;
}

gc_val gc_qwen2_trunk(gc_builder *b, const void *config, gc_val ids, gc_val positions, gc_val mask,
                      const gc_kv_hook *hook) {
  const gc_qwen2_config *c = config;
  int64_t H = c->hidden_size, V = c->vocab_size;
  gc_builder_set_init_std(b, c->initializer_range);
  double eps = c->rms_norm_eps;
  gc_push(b, "model");
  gc_val h = gc_embedding(b, ids, "embed_tokens", V, H);
  gc_val cos, sin;
  gc_rope_tables(b, positions, gc_dim(b, ids, 1), H / c->num_attention_heads, c->rope_theta, &cos, &sin);
  for (int64_t i = 0; i < c->num_hidden_layers; i++) {
    gc_push(b, "layers.%lld", (long long)i);
    gc_val x = gc_rms_norm(b, h, "input_layernorm", H, eps);
    h = gc_add(b, h, attention(b, c, i, x, cos, sin, mask, hook));
    x = gc_rms_norm(b, h, "post_attention_layernorm", H, eps);
    h = gc_add(b, h, gc_gated_mlp(b, x, "mlp", H, c->intermediate_size, c->hidden_act));
    gc_pop(b);
  }
  h = gc_rms_norm(b, h, "norm", H, eps);
  gc_pop(b);
  return h;
}

gc_val gc_qwen2_lm_head(gc_builder *b, const void *config, gc_val h) {
  const gc_qwen2_config *c = config;
  return gc_lm_head(b, h, c->tie_word_embeddings ? "model.embed_tokens.weight" : NULL, c->hidden_size, c->vocab_size);
}

int64_t gc_qwen2_max_positions(const void *config) { return ((const gc_qwen2_config *)config)->max_position_embeddings; }
