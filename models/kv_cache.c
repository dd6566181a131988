/* The KV cache hook of the generation graphs: cache.<layer>.{k,v} params of
 * shape [1, Hkv, max_len, D], written by prefill (slots 0..P-1) and by each
 * decode step (slot `position`), read by the decode step's attention. */
#include "models/decode.h"

#include <stdio.h>

typedef char cache_name[64];

/* The cache param "cache.<layer>.<which>" (its name into `name`), shaped
 * like x with max_len positions. */
static gc_val cache_param(gc_builder *b, int64_t layer, const char *which, gc_val x, int64_t max_len,
                          cache_name name) {
  snprintf(name, sizeof(cache_name), "cache.%lld.%s", (long long)layer, which);
  gc_type t = gc_type_of(b, x);
  return gc_param_full(b, name, t.dtype, GC_SHAPE(t.dims[0], t.dims[1], max_len, t.dims[3]), gc_init_zeros());
}

/* Prefill: the cache becomes x [1, Hkv, P, D] followed by zeros. */
static void write_prompt(gc_builder *b, const gc_kv_cache *kv, int64_t layer, const char *which, gc_val x) {
  cache_name name;
  gc_val p = cache_param(b, layer, which, x, kv->max_len, name);
  int64_t lo[4] = {0, 0, 0, 0}, hi[4] = {0, 0, kv->max_len - gc_dim(b, x, 2), 0};
  if (gc_is_none(p)) return;
  gc_update(b, name, gc_pad(b, x, lo, hi, 0.0));
}

/* Decode: slot `position` of the cache becomes x [1, Hkv, 1, D]; returns the
 * whole updated cache [1, Hkv, max_len, D]. */
static gc_val write_slot(gc_builder *b, const gc_kv_cache *kv, int64_t layer, const char *which, gc_val x) {
  cache_name name;
  gc_val p = cache_param(b, layer, which, x, kv->max_len, name);
  gc_val slot = gc_eq(b, gc_iota(b, GC_I64, GC_SHAPE(1, 1, kv->max_len, 1), 2), kv->position);
  gc_val all = gc_where(b, slot, x, p);
  gc_update(b, name, all);
  return all;
}

void gc_kv_cache_fn(gc_builder *b, void *ctx, int64_t layer, gc_val *k, gc_val *v, gc_attn_opts *o) {
  const gc_kv_cache *kv = ctx;
  if (gc_builder_error(b)) return;
  o->kv_in_place = true;   /* grouped-query heads read the cache, no copy of it */
  if (gc_is_none(kv->position)) {
    write_prompt(b, kv, layer, "k", *k);
    write_prompt(b, kv, layer, "v", *v);
    return;
  }
  if (gc_dim(b, *k, 2) != 1) {
    gc_builder_fail(b, "kv cache: a decode step takes one token, not %lld", (long long)gc_dim(b, *k, 2));
    return;
  }
  *k = write_slot(b, kv, layer, "k", *k);
  *v = write_slot(b, kv, layer, "v", *v);
  /* One query at `position` sees the slots 0..position. */
  o->causal = false;
  o->mask = gc_le(b, gc_arange(b, kv->max_len, GC_I64), kv->position);
}
