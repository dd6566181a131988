/* Normalisation layers: LayerNorm and RMSNorm over the last dim. */
#include "frontend/nn.h"
#include "frontend/builder_internal.h"

static const int last[1] = {-1};

gc_val gc_layer_norm_fn(gc_builder *b, gc_val x, gc_val weight, gc_val bias, double eps) {
  gc_val xc = gc_sub(b, x, gc_mean(b, x, 1, last, true));
  gc_val var = gc_mean(b, gc_mul(b, xc, xc), 1, last, true);
  gc_val y = gc_mul(b, xc, gc_rsqrt(b, gc_addf(b, var, eps)));
  if (!gc_is_none(weight)) y = gc_mul(b, y, weight);
  if (!gc_is_none(bias)) y = gc_add(b, y, bias);
  return y;
}

gc_val gc_rms_norm_fn(gc_builder *b, gc_val x, gc_val weight, double eps) {
  gc_val var = gc_mean(b, gc_mul(b, x, x), 1, last, true);
  gc_val y = gc_mul(b, x, gc_rsqrt(b, gc_addf(b, var, eps)));
  return gc_is_none(weight) ? y : gc_mul(b, weight, y);
}

/* x must end in `dim`; records the error otherwise. */
static bool last_dim_is(gc_builder *b, const char *op, gc_val x, int64_t dim) {
  if (gc_b_skip(b, op, 1, &x)) return false;
  if (gc_rank(b, x) >= 1 && gc_dim(b, x, -1) == dim) return true;
  gc_b_fail(b, op, 1, &x, "does not end in the normalised size %lld", (long long)dim);
  return false;
}

gc_val gc_layer_norm(gc_builder *b, gc_val x, const char *name, int64_t dim, double eps) {
  gc_push(b, "%s", name);
  gc_val y = GC_NONE;
  if (last_dim_is(b, "layer_norm", x, dim)) {
    gc_val w = gc_param(b, "weight", GC_SHAPE(dim), gc_init_ones());
    gc_val bias = gc_param(b, "bias", GC_SHAPE(dim), gc_init_zeros());
    y = gc_layer_norm_fn(b, x, w, bias, eps);
  }
  gc_pop(b);
  return y;
}

gc_val gc_rms_norm(gc_builder *b, gc_val x, const char *name, int64_t dim, double eps) {
  gc_push(b, "%s", name);
  gc_val y = GC_NONE;
  if (last_dim_is(b, "rms_norm", x, dim))
    y = gc_rms_norm_fn(b, x, gc_param(b, "weight", GC_SHAPE(dim), gc_init_ones()), eps);
  gc_pop(b);
  return y;
}
