/* Attention: head split/merge, grouped-query kv repetition, and scaled
 * dot-product attention with causal and padding masks and an additive bias. */
#include "frontend/nn.h"
#include "frontend/builder_internal.h"

#include <float.h>
#include <math.h>

gc_val gc_split_heads(gc_builder *b, gc_val x, int64_t n_heads) {
  if (gc_b_skip(b, "split_heads", 1, &x)) return GC_NONE;
  int64_t hd = gc_dim(b, x, -1);
  if (gc_rank(b, x) != 3 || n_heads < 1 || hd % n_heads != 0) {
    gc_b_fail(b, "split_heads", 1, &x, "is not [B, T, H*D] for %lld heads", (long long)n_heads);
    return GC_NONE;
  }
  gc_val y = gc_reshape(b, x, GC_SHAPE(gc_dim(b, x, 0), gc_dim(b, x, 1), n_heads, hd / n_heads));
  return gc_swap_axes(b, y, 1, 2);
}

gc_val gc_merge_heads(gc_builder *b, gc_val x) {
  if (gc_b_skip(b, "merge_heads", 1, &x)) return GC_NONE;
  if (gc_rank(b, x) != 4) {
    gc_b_fail(b, "merge_heads", 1, &x, "is not [B, H, T, D]");
    return GC_NONE;
  }
  gc_val y = gc_swap_axes(b, x, 1, 2);
  return gc_reshape(b, y, GC_SHAPE(gc_dim(b, x, 0), gc_dim(b, x, 2), -1));
}

gc_val gc_repeat_kv(gc_builder *b, gc_val x, int64_t n_rep) {
  if (gc_b_skip(b, "repeat_kv", 1, &x)) return GC_NONE;
  if (gc_rank(b, x) != 4 || n_rep < 1) {
    gc_b_fail(b, "repeat_kv", 1, &x, "is not [B, H, T, D] or the repeat %lld is < 1", (long long)n_rep);
    return GC_NONE;
  }
  if (n_rep == 1) return x;
  gc_type t = gc_type_of(b, x);
  int64_t B = t.dims[0], H = t.dims[1], T = t.dims[2], D = t.dims[3];
  gc_val y = gc_reshape(b, x, GC_SHAPE(B, H, 1, T, D));
  y = gc_broadcast_to(b, y, GC_SHAPE(B, H, n_rep, T, D));
  return gc_reshape(b, y, GC_SHAPE(B, H * n_rep, T, D));
}

/* Scores where `keep` is false become the dtype's lowest finite value. */
static gc_val mask_scores(gc_builder *b, gc_val scores, gc_val keep) {
  gc_dtype dt = gc_type_of(b, scores).dtype;
  double lowest = dt == GC_F64 ? -DBL_MAX : -(double)FLT_MAX;
  return gc_where(b, keep, scores, gc_const(b, lowest, dt, 0, NULL));
}

/* keep[i, j] = j <= i + (tk - tq) */
static gc_val causal_keep(gc_builder *b, int64_t tq, int64_t tk) {
  gc_val qi = gc_iota(b, GC_I64, GC_SHAPE(tq, tk), 0);
  gc_val kj = gc_iota(b, GC_I64, GC_SHAPE(tq, tk), 1);
  return gc_le(b, kj, gc_addf(b, qi, (double)(tk - tq)));
}

/* An HF attention_mask [B, Tk] -> bool [B, 1, 1, Tk]; other ranks are taken
 * as broadcastable to the scores. */
static gc_val padding_keep(gc_builder *b, gc_val mask) {
  gc_type t = gc_type_of(b, mask);
  if (t.rank == 2) mask = gc_reshape(b, mask, GC_SHAPE(t.dims[0], 1, 1, t.dims[1]));
  if (t.dtype == GC_BOOL) return mask;
  return gc_ne(b, mask, gc_const(b, 0, t.dtype, 0, NULL));
}

static bool attention_shapes_ok(gc_builder *b, gc_val q, gc_val k, gc_val v) {
  gc_type tq = gc_type_of(b, q), tk = gc_type_of(b, k), tv = gc_type_of(b, v);
  bool ok = tq.rank == 4 && tk.rank == 4 && tv.rank == 4 && tq.dims[0] == tk.dims[0] &&
            tk.dims[0] == tv.dims[0] && tk.dims[1] == tv.dims[1] && tk.dims[2] == tv.dims[2] &&
            tq.dims[3] == tk.dims[3] && tk.dims[1] > 0 && tq.dims[1] % tk.dims[1] == 0;
  if (!ok)
    gc_b_fail(b, "attention", 3, (gc_val[]){q, k, v},
              "are not q [B, Hq, Tq, D], k [B, Hkv, Tk, D], v [B, Hkv, Tk, Dv] with Hq a multiple of Hkv");
  return ok;
}

gc_val gc_attention(gc_builder *b, gc_val q, gc_val k, gc_val v, const gc_attn_opts *opts) {
  static const gc_attn_opts none;
  const gc_attn_opts *o = opts ? opts : &none;
  if (gc_b_skip(b, "attention", 3, (gc_val[]){q, k, v}) || !attention_shapes_ok(b, q, k, v))
    return GC_NONE;
  int64_t hq = gc_dim(b, q, 1), hkv = gc_dim(b, k, 1), d = gc_dim(b, q, 3);
  int64_t tq = gc_dim(b, q, 2), tk = gc_dim(b, k, 2), B = gc_dim(b, q, 0), g = hq / hkv;
  bool grouped = o->kv_in_place && g > 1;
  if (grouped) {   /* [B, Hkv, g, Tq, D] against [B, Hkv, 1, Tk, D] */
    q = gc_reshape(b, q, GC_SHAPE(B, hkv, g, tq, d));
    k = gc_reshape(b, k, GC_SHAPE(B, hkv, 1, tk, d));
    v = gc_reshape(b, v, GC_SHAPE(B, hkv, 1, tk, gc_dim(b, v, 3)));
  } else {
    k = gc_repeat_kv(b, k, g);
    v = gc_repeat_kv(b, v, g);
  }
  gc_val s = gc_matmul_t(b, q, k, false, true);                  /* [B, H, Tq, Tk] */
  if (grouped) s = gc_reshape(b, s, GC_SHAPE(B, hq, tq, tk));
  if (!o->no_scale) s = gc_mulf(b, s, o->scale != 0 ? o->scale : 1.0 / sqrt((double)d));
  if (!gc_is_none(o->bias)) s = gc_add(b, s, o->bias);
  if (o->causal) s = mask_scores(b, s, causal_keep(b, tq, tk));
  if (!gc_is_none(o->mask)) s = mask_scores(b, s, padding_keep(b, o->mask));
  gc_val p = gc_dropout(b, gc_softmax(b, s, -1), o->dropout);
  if (!grouped) return gc_matmul(b, p, v);
  gc_val y = gc_matmul(b, gc_reshape(b, p, GC_SHAPE(B, hkv, g, tq, tk)), v);
  return gc_reshape(b, y, GC_SHAPE(B, hq, tq, gc_dim(b, v, 4)));
}
