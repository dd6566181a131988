/* The per-param update rules: AdamW and SGD with momentum, following
 * torch.optim (decoupled weight decay, bias correction, torch's operation
 * order), with weight decay only on params of rank >= 2; and their ZeRO-1
 * form, which updates one rank's block of the param and gathers the rest. */
#include "frontend/builder_internal.h"
#include "frontend/optim_internal.h"

#include <stdio.h>

/* The param `opt.<kind>.<name>` of p's type, zeros at the start. */
static gc_val state(gc_builder *b, const char *kind, const char *name, gc_val p) {
  char full[1200];
  snprintf(full, sizeof full, "opt.%s.%s", kind, name);
  gc_type t = gc_type_of(b, p);
  return gc_param_full(b, full, t.dtype, t.rank, t.dims, gc_init_zeros());
}

static void state_update(gc_builder *b, const char *kind, const char *name, gc_val v) {
  char full[1200];
  snprintf(full, sizeof full, "opt.%s.%s", kind, name);
  gc_update(b, full, v);
}

static bool decays(const gc_optim_config *c, int rank) { return c->weight_decay != 0 && rank >= 2; }

/* torch.optim.AdamW:
 *   p *= 1 - lr wd;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *   p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps) */
static gc_val adamw(gc_builder *b, const gc_optim_config *c, const gc_optim_step_vals *sv,
                    const char *name, gc_val p, gc_val g, bool decay) {
  gc_dtype pd = gc_type_of(b, p).dtype;
  gc_val lr = gc_cast(b, sv->lr, pd);
  gc_val m = state(b, "m", name, p), v = state(b, "v", name, p);
  gc_val m1 = gc_add(b, gc_mulf(b, m, c->beta1), gc_mulf(b, g, 1.0 - c->beta1));
  gc_val v1 = gc_add(b, gc_mulf(b, v, c->beta2), gc_mulf(b, gc_square(b, g), 1.0 - c->beta2));
  gc_val step_size = gc_div(b, lr, gc_cast(b, sv->bc1, pd));
  gc_val sqrt_bc2 = gc_sqrt(b, gc_cast(b, sv->bc2, pd));
  gc_val denom = gc_addf(b, gc_div(b, gc_sqrt(b, v1), sqrt_bc2), c->eps);
  gc_val base = p;
  if (decay) base = gc_mul(b, p, gc_addf(b, gc_mulf(b, lr, -c->weight_decay), 1.0));
  gc_val p1 = gc_sub(b, base, gc_mul(b, gc_div(b, m1, denom), step_size));
  state_update(b, "m", name, m1);
  state_update(b, "v", name, v1);
  return p1;
}

/* torch.optim.SGD: g += wd p;  buf = momentum buf + g (buf = g at the first
 * step, which zero-initialised state gives);  p -= lr buf. */
static gc_val sgd(gc_builder *b, const gc_optim_config *c, const gc_optim_step_vals *sv,
                  const char *name, gc_val p, gc_val g, bool decay) {
  gc_dtype pd = gc_type_of(b, p).dtype;
  gc_val lr = gc_cast(b, sv->lr, pd);
  if (decay) g = gc_add(b, g, gc_mulf(b, p, c->weight_decay));
  if (c->momentum != 0) {
    gc_val buf = state(b, "m", name, p);
    g = gc_add(b, gc_mulf(b, buf, c->momentum), g);
    state_update(b, "m", name, g);
  }
  return gc_sub(b, p, gc_mul(b, g, lr));
}

static gc_val rule(gc_builder *b, const gc_optim_config *c, const gc_optim_step_vals *sv, const char *name, gc_val p,
                   gc_val g, bool decay) {
  return c->kind == GC_OPTIM_SGD ? sgd(b, c, sv, name, p, g, decay) : adamw(b, c, sv, name, p, g, decay);
}

int64_t gc_optim_shard_len(int64_t numel, int shards) { return shards > 1 ? (numel + shards - 1) / shards : numel; }

/* Block `c->shard` of x's elements: flattened, zero-padded to shards
 * blocks of `len`. */
static gc_val block_of(gc_builder *b, const gc_optim_config *c, gc_val x, int64_t numel, int64_t len) {
  gc_val flat = gc_flatten(b, x);
  int64_t lo = 0, hi = len * c->shards - numel;
  if (hi > 0) flat = gc_pad(b, flat, &lo, &hi, 0);
  return gc_slice(b, flat, 0, c->shard * len, (c->shard + 1) * len, 1);
}

/* Every rank's block gathered, the padding cut, in the param's shape. */
static gc_val whole_of(gc_builder *b, const gc_optim_config *c, gc_val block, const gc_type *t, int64_t numel,
                       int64_t len) {
  if (gc_b_skip(b, "all_gather", 1, &block)) return GC_NONE;
  gc_type all = gc_type_make(t->dtype, 1, (int64_t[]){len * c->shards});
  gc_val x = gc_b_emit(b, "all_gather", GC_OP_ALL_GATHER, 1, &block, NULL, &all);
  if (len * c->shards != numel) x = gc_slice(b, x, 0, 0, numel, 1);
  return gc_reshape(b, x, t->rank, t->dims);
}

void gc_optim_update_param(gc_builder *b, const gc_optim_config *c, const gc_optim_step_vals *sv,
                           const char *name, gc_val p, gc_val g) {
  gc_type t = gc_type_of(b, p);
  bool decay = decays(c, t.rank);
  if (c->shards <= 1) {
    gc_update(b, name, rule(b, c, sv, name, p, g, decay));
    return;
  }
  int64_t numel = gc_type_numel_unchecked(&t), len = gc_optim_shard_len(numel, c->shards);
  gc_val p1 = rule(b, c, sv, name, block_of(b, c, p, numel, len), block_of(b, c, g, numel, len), decay);
  gc_update(b, name, whole_of(b, c, p1, &t, numel, len));
}
