/* The per-param update rules: AdamW and SGD with momentum, following
 * torch.optim (decoupled weight decay, bias correction, torch's operation
 * order), with weight decay only on params of rank >= 2. */
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

static bool decays(gc_builder *b, const gc_optim_config *c, gc_val p) {
  return c->weight_decay != 0 && gc_rank(b, p) >= 2;
}

/* torch.optim.AdamW:
 *   p *= 1 - lr wd;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *   p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps) */
static void adamw(gc_builder *b, const gc_optim_config *c, const gc_optim_step_vals *sv,
                  const char *name, gc_val p, gc_val g) {
  gc_dtype pd = gc_type_of(b, p).dtype;
  gc_val lr = gc_cast(b, sv->lr, pd);
  gc_val m = state(b, "m", name, p), v = state(b, "v", name, p);
  gc_val m1 = gc_add(b, gc_mulf(b, m, c->beta1), gc_mulf(b, g, 1.0 - c->beta1));
  gc_val v1 = gc_add(b, gc_mulf(b, v, c->beta2), gc_mulf(b, gc_square(b, g), 1.0 - c->beta2));
  gc_val step_size = gc_div(b, lr, gc_cast(b, sv->bc1, pd));
  gc_val sqrt_bc2 = gc_sqrt(b, gc_cast(b, sv->bc2, pd));
  gc_val denom = gc_addf(b, gc_div(b, gc_sqrt(b, v1), sqrt_bc2), c->eps);
  gc_val base = p;
  if (decays(b, c, p)) base = gc_mul(b, p, gc_addf(b, gc_mulf(b, lr, -c->weight_decay), 1.0));
  gc_val p1 = gc_sub(b, base, gc_mul(b, gc_div(b, m1, denom), step_size));
  state_update(b, "m", name, m1);
  state_update(b, "v", name, v1);
  gc_update(b, name, p1);
}

/* torch.optim.SGD: g += wd p;  buf = momentum buf + g (buf = g at the first
 * step, which zero-initialised state gives);  p -= lr buf. */
static void sgd(gc_builder *b, const gc_optim_config *c, const gc_optim_step_vals *sv,
                const char *name, gc_val p, gc_val g) {
  gc_dtype pd = gc_type_of(b, p).dtype;
  gc_val lr = gc_cast(b, sv->lr, pd);
  if (decays(b, c, p)) g = gc_add(b, g, gc_mulf(b, p, c->weight_decay));
  if (c->momentum != 0) {
    gc_val buf = state(b, "m", name, p);
    g = gc_add(b, gc_mulf(b, buf, c->momentum), g);
    state_update(b, "m", name, g);
  }
  gc_update(b, name, gc_sub(b, p, gc_mul(b, g, lr)));
}

void gc_optim_update_param(gc_builder *b, const gc_optim_config *c, const gc_optim_step_vals *sv,
                           const char *name, gc_val p, gc_val g) {
  if (c->kind == GC_OPTIM_SGD)
    sgd(b, c, sv, name, p, g);
  else
    adamw(b, c, sv, name, p, g);
}
