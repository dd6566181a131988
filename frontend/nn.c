/* nn blocks: linear layers, embeddings, activations, the SwiGLU MLP,
 * softmax and dropout. */
#include "frontend/nn.h"
#include "frontend/hf_act.h"
#include "frontend/builder_internal.h"

/* ---- linear layers and embeddings ------------------------------------- */

gc_val gc_linear_fn(gc_builder *b, gc_val x, gc_val weight, gc_val bias, gc_linear_layout layout) {
  gc_val y = gc_matmul_t(b, x, weight, false, layout == GC_LINEAR_OUT_IN);
  return gc_is_none(bias) ? y : gc_add(b, y, bias);
}

gc_val gc_linear(gc_builder *b, gc_val x, const char *name, int64_t in, int64_t out, bool bias,
                 gc_linear_layout layout) {
  if (gc_b_skip(b, "linear", 1, &x)) return GC_NONE;
  gc_push(b, "%s", name);
  gc_val y = GC_NONE;
  if (gc_rank(b, x) < 1 || gc_dim(b, x, -1) != in) {
    gc_b_fail(b, "linear", 1, &x, "does not end in the layer's input size %lld", (long long)in);
  } else {
    gc_val w = layout == GC_LINEAR_OUT_IN
                   ? gc_param(b, "weight", GC_SHAPE(out, in), gc_init_normal(b->init_std))
                   : gc_param(b, "weight", GC_SHAPE(in, out), gc_init_normal(b->init_std));
    gc_val bv = bias ? gc_param(b, "bias", GC_SHAPE(out), gc_init_zeros()) : GC_NONE;
    y = gc_linear_fn(b, x, w, bv, layout);
  }
  gc_pop(b);
  return y;
}

gc_val gc_embedding(gc_builder *b, gc_val ids, const char *name, int64_t num, int64_t dim) {
  if (gc_b_skip(b, "embedding", 1, &ids)) return GC_NONE;
  gc_push(b, "%s", name);
  gc_val table = gc_param(b, "weight", GC_SHAPE(num, dim), gc_init_normal(b->init_std));
  gc_val y = gc_gather(b, table, ids);
  gc_pop(b);
  return y;
}

/* ---- activations ------------------------------------------------------- */

gc_val gc_gelu(gc_builder *b, gc_val x, gc_gelu_form form) {
  gc_val inner;
  if (form == GC_GELU_ERF) {
    inner = gc_erf(b, gc_mulf(b, x, 0.70710678118654752440));   /* x / sqrt(2) */
  } else {
    gc_val cube = gc_mul(b, gc_mul(b, x, x), x);
    gc_val u = gc_mulf(b, gc_add(b, x, gc_mulf(b, cube, 0.044715)), 0.79788456080286535588); /* sqrt(2/pi) */
    inner = gc_tanh(b, u);
  }
  return gc_mul(b, gc_mulf(b, x, 0.5), gc_addf(b, inner, 1.0));
}

gc_val gc_silu(gc_builder *b, gc_val x) { return gc_mul(b, x, gc_sigmoid(b, x)); }
gc_val gc_relu(gc_builder *b, gc_val x) { return gc_maxf(b, x, 0.0); }

gc_val gc_swiglu_mlp(gc_builder *b, gc_val x, const char *name, int64_t hidden, int64_t intermediate) {
  if (gc_b_skip(b, "swiglu_mlp", 1, &x)) return GC_NONE;
  return gc_gated_mlp(b, x, name, hidden, intermediate, "silu");
}

/* ---- softmax ----------------------------------------------------------- */

/* x - max(x, axis), the max kept as a broadcastable dim. */
/* x minus its maximum along axis, for a stable exp.  The maximum is a
 * constant as far as gradients go (softmax does not depend on the shift),
 * so the backward graph has no reduce_max adjoint to compute and the
 * masked scores need not be kept for it. */
static gc_val shifted(gc_builder *b, gc_val x, int axis) {
  return gc_sub(b, x, gc_stop_gradient(b, gc_max_reduce(b, x, 1, &axis, true)));
}

gc_val gc_softmax(gc_builder *b, gc_val x, int axis) {
  gc_val e = gc_exp(b, shifted(b, x, axis));
  return gc_div(b, e, gc_sum(b, e, 1, &axis, true));
}

gc_val gc_log_softmax(gc_builder *b, gc_val x, int axis) {
  gc_val s = shifted(b, x, axis);
  return gc_sub(b, s, gc_log(b, gc_sum(b, gc_exp(b, s), 1, &axis, true)));
}

/* ---- dropout ----------------------------------------------------------- */

gc_val gc_dropout_ex(gc_builder *b, gc_val x, double p, uint64_t seed, gc_val counter) {
  gc_val xs[2] = {x, counter};
  if (gc_b_skip(b, "dropout", 2, xs)) return GC_NONE;
  if (!(p >= 0 && p < 1)) {
    gc_b_fail(b, "dropout", 1, &x, "cannot take probability %g (needs 0 <= p < 1)", p);
    return GC_NONE;
  }
  if (p == 0) return x;
  gc_type t = gc_type_of(b, x);
  if (!gc_dtype_is_float(t.dtype)) {
    gc_b_fail(b, "dropout", 1, &x, "is not f32 or f64");
    return GC_NONE;
  }
  gc_val r = gc_rand_uniform(b, counter, seed, t.dtype, t.rank, t.dims);
  gc_val drop = gc_lt(b, r, gc_const_like(b, r, p));
  return gc_where(b, drop, gc_const_like(b, x, 0.0), gc_mulf(b, x, 1.0 / (1.0 - p)));
}

gc_val gc_dropout(gc_builder *b, gc_val x, double p) {
  if (!b->training || p == 0) return x;
  if (gc_is_none(b->train_counter)) {
    gc_b_fail(b, "dropout", 1, &x, "needs a counter: call gc_builder_set_training with one");
    return GC_NONE;
  }
  uint64_t seed = b->train_seed + (uint64_t)b->dropout_sites++;
  return gc_dropout_ex(b, x, p, seed, b->train_counter);
}
