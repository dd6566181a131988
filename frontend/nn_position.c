/* Position information: rotary embeddings (HF rotate_half convention) and
 * T5's bucketed relative position bias. */
#include "frontend/nn.h"
#include "frontend/builder_internal.h"

#include <math.h>

/* ---- rotary embeddings ------------------------------------------------- */

void gc_rope_tables(gc_builder *b, gc_val positions, int64_t n_pos, int64_t head_dim, double theta,
                    gc_val *cos, gc_val *sin) {
  *cos = *sin = GC_NONE;
  if (b->failed) return;
  if (head_dim < 2 || head_dim % 2 != 0) {
    gc_b_fail(b, "rope", 0, NULL, "head dim %lld is not even", (long long)head_dim);
    return;
  }
  if (gc_is_none(positions)) positions = gc_arange(b, n_pos, GC_I64);
  if (gc_b_skip(b, "rope", 1, &positions)) return;
  int r = gc_rank(b, positions);
  if ((r != 1 && r != 2) || !gc_dtype_is_int(gc_type_of(b, positions).dtype)) {
    gc_b_fail(b, "rope", 1, &positions, "are not integer positions [T] or [B, T]");
    return;
  }
  int64_t half = head_dim / 2;
  /* inv_freq[i] = 1 / theta^((2i) / D), as HF computes it in float */
  gc_val expo = gc_divf(b, gc_mulf(b, gc_arange(b, half, GC_FLOATX), 2.0), (double)head_dim);
  gc_val inv_freq = gc_recip(b, gc_pow(b, gc_const_like(b, expo, theta), expo));   /* [D/2] */
  gc_val pos = gc_unsqueeze(b, gc_cast(b, positions, GC_FLOATX), -1);              /* [.., T, 1] */
  gc_val freqs = gc_mul(b, pos, inv_freq);                                          /* [.., T, D/2] */
  gc_val emb = gc_concat(b, 2, (gc_val[]){freqs, freqs}, -1);                       /* [.., T, D] */
  *cos = gc_cos(b, emb);
  *sin = gc_sin(b, emb);
}

gc_val gc_rope_apply(gc_builder *b, gc_val x, gc_val cos, gc_val sin) {
  gc_val xs[3] = {x, cos, sin};
  if (gc_b_skip(b, "rope", 3, xs)) return GC_NONE;
  int64_t d = gc_dim(b, x, -1);
  if (gc_rank(b, x) != 4 || d % 2 != 0 || gc_dim(b, cos, -1) != d) {
    gc_b_fail(b, "rope", 3, xs, "are not x [B, H, T, D] (D even) and tables [.., T, D]");
    return GC_NONE;
  }
  if (gc_rank(b, cos) == 3) {   /* per-batch positions: broadcast over heads */
    cos = gc_unsqueeze(b, cos, 1);
    sin = gc_unsqueeze(b, sin, 1);
  }
  gc_val x1 = gc_slice(b, x, -1, 0, d / 2, 1), x2 = gc_slice(b, x, -1, d / 2, d, 1);
  gc_val rot = gc_concat(b, 2, (gc_val[]){gc_neg(b, x2), x1}, -1);
  return gc_add(b, gc_mul(b, x, cos), gc_mul(b, rot, sin));
}

gc_val gc_rope(gc_builder *b, gc_val x, gc_val positions, double theta) {
  gc_val cos, sin;
  if (gc_b_skip(b, "rope", 1, &x)) return GC_NONE;
  gc_rope_tables(b, positions, gc_dim(b, x, 2), gc_dim(b, x, -1), theta, &cos, &sin);
  return gc_rope_apply(b, x, cos, sin);
}

/* ---- T5 relative position buckets ------------------------------------- */

int64_t gc_t5_bucket(int64_t rp, bool bidirectional, int num_buckets, int max_distance) {
  int64_t bucket = 0;
  if (bidirectional) {
    num_buckets /= 2;
    if (rp > 0) bucket += num_buckets;
    rp = rp < 0 ? -rp : rp;
  } else {
    rp = rp < 0 ? -rp : 0;
  }
  int64_t max_exact = num_buckets / 2;
  if (rp < max_exact) return bucket + rp;
  /* torch: f32 tensor maths, python scalars rounded to f32 */
  float scaled = logf((float)rp / (float)max_exact) / (float)log((double)max_distance / (double)max_exact) *
                 (float)(num_buckets - max_exact);
  int64_t large = max_exact + (int64_t)scaled;
  return bucket + (large < num_buckets - 1 ? large : num_buckets - 1);
}

gc_val gc_t5_buckets(gc_builder *b, int64_t tq, int64_t tk, bool bidirectional, int num_buckets,
                     int max_distance) {
  if (b->failed) return GC_NONE;
  if (num_buckets < 4 || max_distance <= num_buckets / (bidirectional ? 4 : 2)) {
    gc_b_fail(b, "t5_buckets", 0, NULL, "%d buckets and max distance %d do not make buckets",
              num_buckets, max_distance);
    return GC_NONE;
  }
  gc_val rp = gc_sub(b, gc_iota(b, GC_I64, GC_SHAPE(tq, tk), 1), gc_iota(b, GC_I64, GC_SHAPE(tq, tk), 0));
  gc_val bucket = gc_const_like(b, rp, 0);
  if (bidirectional) {
    num_buckets /= 2;
    bucket = gc_where(b, gc_gt(b, rp, gc_const_like(b, rp, 0)), gc_const_like(b, rp, num_buckets), bucket);
    rp = gc_abs(b, rp);
  } else {
    rp = gc_neg(b, gc_minf(b, rp, 0));
  }
  int64_t max_exact = num_buckets / 2;
  gc_val small = gc_lt(b, rp, gc_const_like(b, rp, (double)max_exact));
  /* log of max(rp, max_exact): the small ones are not used, and log(0) is avoided */
  gc_val rpf = gc_cast(b, gc_maxf(b, rp, (double)max_exact), GC_F32);
  gc_val scaled = gc_divf(b, gc_log(b, gc_divf(b, rpf, (double)max_exact)),
                          log((double)max_distance / (double)max_exact));
  scaled = gc_mulf(b, scaled, (double)(num_buckets - max_exact));
  gc_val large = gc_addf(b, gc_cast(b, scaled, GC_I64), (double)max_exact);
  large = gc_minf(b, large, (double)(num_buckets - 1));
  return gc_add(b, bucket, gc_where(b, small, rp, large));
}

gc_val gc_t5_relative_bias(gc_builder *b, const char *name, int64_t tq, int64_t tk, int64_t n_heads,
                           int num_buckets, int max_distance, bool bidirectional) {
  if (b->failed) return GC_NONE;
  gc_push(b, "%s", name);
  gc_val table = gc_param(b, "weight", GC_SHAPE(num_buckets, n_heads), gc_init_normal(b->init_std));
  gc_val buckets = gc_t5_buckets(b, tq, tk, bidirectional, num_buckets, max_distance);
  gc_val v = gc_gather(b, table, buckets);                         /* [Tq, Tk, H] */
  v = gc_transpose(b, v, GC_AXES(2, 0, 1));
  v = gc_unsqueeze(b, v, 0);                                       /* [1, H, Tq, Tk] */
  gc_pop(b);
  return v;
}
