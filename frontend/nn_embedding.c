/* Embedding with HF's padding_idx (the pad row gets no gradient from the
 * lookup), stop_gradient, and the LM head that may reuse an embedding. */
#include "frontend/builder_internal.h"
#include "frontend/nn.h"

gc_val gc_stop_gradient(gc_builder *b, gc_val x) {
  if (gc_b_skip(b, "stop_gradient", 1, &x)) return GC_NONE;
  return gc_b_emit(b, "stop_gradient", GC_OP_STOP_GRADIENT, 1, &x, NULL, NULL);
}

gc_val gc_embedding_padded(gc_builder *b, gc_val ids, const char *name, int64_t num, int64_t dim,
                           int64_t padding_idx) {
  if (gc_b_skip(b, "embedding", 1, &ids)) return GC_NONE;
  gc_val y = gc_embedding(b, ids, name, num, dim);
  if (padding_idx < 0 || padding_idx >= num) return y;
  /* HF's _init_weights zeroes the padding row. */
  gc_push(b, "%s", name);
  gc_set_init(b, "weight", gc_init_normal_zero_row(gc_builder_init_std(b), padding_idx));
  gc_pop(b);
  /* where(ids == pad, stop_gradient(y), y): the same values, but positions
   * holding the pad token pass no gradient back to the table. */
  gc_push(b, "%s", name);
  gc_val is_pad = gc_eq(b, ids, gc_const(b, (double)padding_idx, gc_type_of(b, ids).dtype, 0, NULL));
  is_pad = gc_unsqueeze(b, is_pad, -1);
  y = gc_where(b, is_pad, gc_stop_gradient(b, y), y);
  gc_pop(b);
  return y;
}

gc_val gc_lm_head(gc_builder *b, gc_val h, const char *tied, int64_t width, int64_t vocab) {
  if (tied) return gc_linear_fn(b, h, gc_find_param(b, tied), GC_NONE, GC_LINEAR_OUT_IN);
  return gc_linear(b, h, "lm_head", width, vocab, false, GC_LINEAR_OUT_IN);
}
