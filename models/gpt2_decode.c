/* GPT-2 generation graphs: the training graph's blocks (gc_gpt2_trunk) with
 * the KV cache hook; the wpe rows of the tokens' own positions. */
#include "models/decode.h"
#include "models/gpt2.h"

static bool fits(gc_builder *b, const gc_gpt2_config *c, int64_t n, int64_t max_len) {
  if (n >= 1 && n <= max_len && max_len <= c->n_positions) return true;
  gc_builder_fail(b, "gpt2: generation needs 1 <= tokens %lld <= max_len %lld <= n_positions %lld",
                  (long long)n, (long long)max_len, (long long)c->n_positions);
  return false;
}

void gc_gpt2_build_prefill(gc_builder *b, const void *config, int64_t prompt_len, int64_t max_len) {
  const gc_gpt2_config *c = config;
  if (!fits(b, c, prompt_len, max_len)) return;
  gc_builder_set_init_std(b, c->initializer_range);
  gc_val ids = gc_input(b, "input_ids", GC_I64, GC_SHAPE(1, prompt_len));
  gc_kv_cache kv = {.position = GC_NONE, .max_len = max_len};
  gc_kv_hook hook = {gc_kv_cache_fn, &kv};
  gc_val h = gc_gpt2_trunk(b, c, ids, GC_NONE, GC_NONE, &hook);
  h = gc_slice(b, h, 1, prompt_len - 1, prompt_len, 1);                       /* the last token */
  gc_output(b, "logits", gc_reshape(b, gc_gpt2_lm_head(b, c, h), GC_SHAPE(1, c->vocab_size)));
}

void gc_gpt2_build_decode(gc_builder *b, const void *config, int64_t max_len) {
  const gc_gpt2_config *c = config;
  if (!fits(b, c, 1, max_len)) return;
  gc_builder_set_init_std(b, c->initializer_range);
  gc_val ids = gc_input(b, "input_ids", GC_I64, GC_SHAPE(1, 1));
  gc_val pos = gc_input(b, "position", GC_I64, 0, NULL);
  gc_kv_cache kv = {.position = pos, .max_len = max_len};
  gc_kv_hook hook = {gc_kv_cache_fn, &kv};
  gc_val h = gc_gpt2_trunk(b, c, ids, gc_reshape(b, pos, GC_SHAPE(1)), GC_NONE, &hook);
  gc_output(b, "logits", gc_reshape(b, gc_gpt2_lm_head(b, c, h), GC_SHAPE(1, c->vocab_size)));
}
