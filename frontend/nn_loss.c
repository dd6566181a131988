/* Losses: cross-entropy with an ignore index, and the shifted causal-LM loss. */
#include "frontend/nn.h"
#include "frontend/builder_internal.h"

gc_val gc_cross_entropy(gc_builder *b, gc_val logits, gc_val labels, int64_t ignore_index) {
  gc_val xs[2] = {logits, labels};
  if (gc_b_skip(b, "cross_entropy", 2, xs)) return GC_NONE;
  gc_type tl = gc_type_of(b, logits), ty = gc_type_of(b, labels);
  bool ok = gc_dtype_is_float(tl.dtype) && gc_dtype_is_int(ty.dtype) && tl.rank == ty.rank + 1;
  for (int i = 0; ok && i < ty.rank; i++) ok = tl.dims[i] == ty.dims[i];
  if (!ok) {
    gc_b_fail(b, "cross_entropy", 2, xs, "are not logits [..., V] and integer labels [...]");
    return GC_NONE;
  }
  int64_t v = tl.dims[tl.rank - 1];
  gc_val lp = gc_log_softmax(b, gc_reshape(b, logits, GC_SHAPE(-1, v)), -1);   /* [N, V] */
  gc_val y = gc_reshape(b, labels, GC_SHAPE(-1, 1));                          /* [N, 1] */
  int64_t n = gc_dim(b, y, 0);
  gc_val hit = gc_eq(b, gc_iota(b, ty.dtype, GC_SHAPE(n, v), 1), y);            /* [N, V] */
  gc_val zero = gc_const(b, 0, tl.dtype, 0, NULL);
  gc_val picked = gc_sum(b, gc_where(b, hit, lp, zero), GC_AXES(-1), false);    /* [N] */
  gc_val keep = gc_ne(b, gc_flatten(b, labels), gc_const(b, (double)ignore_index, ty.dtype, 0, NULL));
  gc_val kept = gc_cast(b, keep, tl.dtype);
  /* picked is 0 already where the label is -100 (no column matches); the
   * mask also covers an ignore_index that is a valid column. */
  gc_val total = gc_neg(b, gc_sum_all(b, gc_mul(b, picked, kept)));
  gc_val count = gc_maxf(b, gc_sum_all(b, kept), 1.0);
  return gc_div(b, total, count);
}

gc_val gc_causal_lm_loss(gc_builder *b, gc_val logits, gc_val labels) {
  gc_val xs[2] = {logits, labels};
  if (gc_b_skip(b, "causal_lm_loss", 2, xs)) return GC_NONE;
  if (gc_rank(b, logits) != 3 || gc_rank(b, labels) != 2 || gc_dim(b, logits, 1) < 2) {
    gc_b_fail(b, "causal_lm_loss", 2, xs, "are not logits [B, T, V] and labels [B, T] with T >= 2");
    return GC_NONE;
  }
  gc_val l = gc_slice(b, logits, 1, 0, -1, 1);
  gc_val y = gc_slice(b, labels, 1, 1, gc_dim(b, labels, 1), 1);
  return gc_cross_entropy(b, l, y, -100);
}
