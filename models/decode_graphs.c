/* The generation graphs of a causal family, from its trunk and lm_head with
 * the KV cache hook (models/kv_cache.c): prefill over the prompt, and one
 * decode step at `position`.  RoPE or learned positions come out right
 * because the trunk takes the tokens' positions. */
#include "models/decode.h"

static bool fits(gc_builder *b, const gc_model_family *f, const void *config, int64_t n, int64_t max_len) {
  int64_t most = f->max_positions(config);
  if (n >= 1 && n <= max_len && max_len <= most) return true;
  gc_builder_fail(b, "%s: generation needs 1 <= tokens %lld <= max_len %lld <= the model's %lld positions",
                  f->name, (long long)n, (long long)max_len, (long long)most);
  return false;
}

void gc_decode_graph_prefill(gc_builder *b, const gc_model_family *f, const void *config, int64_t prompt_len,
                             int64_t max_len) {
  if (!fits(b, f, config, prompt_len, max_len)) return;
  gc_val ids = gc_input(b, "input_ids", GC_I64, GC_SHAPE(1, prompt_len));
  gc_kv_cache kv = {.position = GC_NONE, .max_len = max_len};
  gc_kv_hook hook = {gc_kv_cache_fn, &kv};
  gc_val h = f->trunk(b, config, ids, GC_NONE, GC_NONE, &hook);
  h = gc_slice(b, h, 1, prompt_len - 1, prompt_len, 1); /* the last token */
  gc_output(b, "logits", gc_reshape(b, f->lm_head(b, config, h), GC_SHAPE(1, f->vocab_size(config))));
}

void gc_decode_graph_step(gc_builder *b, const gc_model_family *f, const void *config, int64_t max_len) {
  if (!fits(b, f, config, 1, max_len)) return;
  gc_val ids = gc_input(b, "input_ids", GC_I64, GC_SHAPE(1, 1));
  gc_val pos = gc_input(b, "position", GC_I64, 0, NULL);
  gc_kv_cache kv = {.position = pos, .max_len = max_len};
  gc_kv_hook hook = {gc_kv_cache_fn, &kv};
  gc_val h = f->trunk(b, config, ids, gc_reshape(b, pos, GC_SHAPE(1)), GC_NONE, &hook);
  gc_output(b, "logits", gc_reshape(b, f->lm_head(b, config, h), GC_SHAPE(1, f->vocab_size(config))));
}
