/* The learning-rate schedule (linear warmup, then cosine decay to min_lr or a
 * constant) and global-norm gradient clipping, as graph nodes. */
#include "frontend/optim_internal.h"

#include <math.h>

/* After warmup: cosine from lr at s = warmup to min_lr at s = decay_steps. */
static gc_val after_warmup(gc_builder *b, const gc_optim_config *c, gc_val s) {
  if (c->schedule == GC_SCHEDULE_CONSTANT) return gc_const_like(b, s, c->lr);
  if (c->decay_steps <= c->warmup) return gc_const_like(b, s, c->min_lr);
  double span = (double)(c->decay_steps - c->warmup);
  gc_val p = gc_divf(b, gc_subf(b, s, (double)c->warmup), span);
  p = gc_minf(b, gc_maxf(b, p, 0.0), 1.0);
  gc_val cosine = gc_addf(b, gc_cos(b, gc_mulf(b, p, M_PI)), 1.0);
  return gc_addf(b, gc_mulf(b, cosine, 0.5 * (c->lr - c->min_lr)), c->min_lr);
}

gc_val gc_optim_schedule_lr(gc_builder *b, const gc_optim_config *c, gc_val s) {
  gc_val after = after_warmup(b, c, s);
  if (c->warmup <= 0) return after;
  gc_val warm = gc_mulf(b, s, c->lr / (double)c->warmup);
  gc_val in_warmup = gc_le(b, s, gc_const_like(b, s, (double)c->warmup));
  return gc_where(b, in_warmup, warm, after);
}

gc_val gc_optim_clip(gc_builder *b, const gc_optim_config *c, int n, gc_val *grads) {
  gc_dtype dt = gc_builder_dtype(b);
  gc_val sumsq = gc_constf(b, 0.0);
  for (int i = 0; i < n; i++)
    sumsq = gc_add(b, sumsq, gc_cast(b, gc_sum_all(b, gc_square(b, grads[i])), dt));
  gc_val norm = gc_sqrt(b, sumsq);
  if (c->clip <= 0) return norm;
  /* torch.nn.utils.clip_grad_norm_: coef = clip / (norm + 1e-6), at most 1 */
  gc_val coef = gc_minf(b, gc_div(b, gc_constf(b, c->clip), gc_addf(b, norm, 1e-6)), 1.0);
  for (int i = 0; i < n; i++)
    grads[i] = gc_mul(b, grads[i], gc_cast(b, coef, gc_type_of(b, grads[i]).dtype));
  return norm;
}
