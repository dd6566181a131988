/* The builder's numpy-style operations: elementwise with broadcasting,
 * layout, reductions, matmul and gather.  Each checks what the user can get
 * wrong and reports it with shapes and label before the IR rule sees it. */
#include "frontend/builder_internal.h"

#include <stdio.h>
#include <string.h>

#define TY(v) (gc_b_node(b, (v))->type)

/* ---- broadcasting ------------------------------------------------------ */

/* The numpy broadcast of the operands' shapes into *out (dtype of xs[0]). */
static bool common_shape(gc_builder *b, const char *op, int n, const gc_val *xs, gc_type *out) {
  *out = TY(xs[0]);
  for (int k = 1; k < n; k++) {
    gc_type t = TY(xs[k]);
    int r = out->rank > t.rank ? out->rank : t.rank;
    gc_type s = *out;
    s.rank = r;
    for (int i = 0; i < r; i++) {
      int io = i - (r - out->rank), it = i - (r - t.rank);
      int64_t a = io >= 0 ? out->dims[io] : 1, c = it >= 0 ? t.dims[it] : 1;
      if (a != c && a != 1 && c != 1) {
        gc_b_fail(b, op, n, xs, "do not broadcast (dim %d: %lld vs %lld)", i, (long long)a, (long long)c);
        return false;
      }
      s.dims[i] = a == 1 ? c : a;
    }
    *out = s;
  }
  return true;
}

/* x broadcast to the dims of `shape` (x's own dtype); x itself if equal. */
static gc_val bcast(gc_builder *b, gc_val x, const gc_type *shape) {
  gc_type t = *shape;
  t.dtype = TY(x).dtype;
  if (gc_type_equal(&t, &TY(x))) return x;
  return gc_b_emit(b, "broadcast", GC_OP_BROADCAST, 1, &x, NULL, &t);
}

/* The checks every call taking a target shape starts with. */
static bool shape_arg_ok(gc_builder *b, const char *op, gc_val x, int rank, const int64_t *dims) {
  if (gc_b_skip(b, op, 1, &x)) return false;
  if (rank < 0 || rank > GC_MAX_RANK || (rank && !dims)) {
    gc_b_fail(b, op, 1, &x, "cannot take rank %d", rank);
    return false;
  }
  return true;
}

gc_val gc_broadcast_to(gc_builder *b, gc_val x, int rank, const int64_t *dims) {
  if (!shape_arg_ok(b, "broadcast", x, rank, dims)) return GC_NONE;
  gc_type t = gc_type_make(TY(x).dtype, rank, dims);
  bool ok = TY(x).rank <= rank;
  for (int i = 0; ok && i < TY(x).rank; i++) {
    int64_t xd = TY(x).dims[TY(x).rank - 1 - i];
    ok = xd == 1 || xd == dims[rank - 1 - i];
  }
  if (!ok) {
    char s[GC_TYPE_STR_MAX];
    gc_b_fail(b, "broadcast", 1, &x, "cannot be broadcast to %s", gc_type_str(&t, s, sizeof s));
    return GC_NONE;
  }
  return bcast(b, x, &t);
}

static bool same_dtype(gc_builder *b, const char *op, int n, const gc_val *xs) {
  for (int i = 1; i < n; i++)
    if (TY(xs[i]).dtype != TY(xs[0]).dtype) {
      gc_b_fail(b, op, n, xs, "differ in dtype (use gc_cast)");
      return false;
    }
  return true;
}

/* ---- elementwise ------------------------------------------------------- */

static gc_val unary(gc_builder *b, const char *op, gc_op ir, gc_val x) {
  if (gc_b_skip(b, op, 1, &x)) return GC_NONE;
  gc_dtype dt = TY(x).dtype;
  bool float_only = ir != GC_OP_NEG && ir != GC_OP_ABS;
  if (dt == GC_BOOL || (float_only && !gc_dtype_is_float(dt))) {
    gc_b_fail(b, op, 1, &x, "is not %s", float_only ? "f32 or f64" : "numeric");
    return GC_NONE;
  }
  return gc_b_emit(b, op, ir, 1, &x, NULL, NULL);
}

gc_val gc_neg(gc_builder *b, gc_val x) { return unary(b, "neg", GC_OP_NEG, x); }
gc_val gc_abs(gc_builder *b, gc_val x) { return unary(b, "abs", GC_OP_ABS, x); }
gc_val gc_exp(gc_builder *b, gc_val x) { return unary(b, "exp", GC_OP_EXP, x); }
gc_val gc_log(gc_builder *b, gc_val x) { return unary(b, "log", GC_OP_LOG, x); }
gc_val gc_sqrt(gc_builder *b, gc_val x) { return unary(b, "sqrt", GC_OP_SQRT, x); }
gc_val gc_rsqrt(gc_builder *b, gc_val x) { return unary(b, "rsqrt", GC_OP_RSQRT, x); }
gc_val gc_recip(gc_builder *b, gc_val x) { return unary(b, "recip", GC_OP_RECIP, x); }
gc_val gc_tanh(gc_builder *b, gc_val x) { return unary(b, "tanh", GC_OP_TANH, x); }
gc_val gc_sigmoid(gc_builder *b, gc_val x) { return unary(b, "sigmoid", GC_OP_SIGMOID, x); }
gc_val gc_erf(gc_builder *b, gc_val x) { return unary(b, "erf", GC_OP_ERF, x); }
gc_val gc_sin(gc_builder *b, gc_val x) { return unary(b, "sin", GC_OP_SIN, x); }
gc_val gc_cos(gc_builder *b, gc_val x) { return unary(b, "cos", GC_OP_COS, x); }
gc_val gc_square(gc_builder *b, gc_val x) { return gc_mul(b, x, x); }

gc_val gc_cast(gc_builder *b, gc_val x, gc_dtype dt) {
  if (gc_b_skip(b, "cast", 1, &x)) return GC_NONE;
  dt = gc_b_dtype(b, dt);
  if ((unsigned)dt >= GC_DTYPE_COUNT) {
    gc_b_fail(b, "cast", 1, &x, "cannot be cast to dtype %d", (int)dt);
    return GC_NONE;
  }
  if (TY(x).dtype == dt) return x;
  gc_type t = TY(x);
  t.dtype = dt;
  return gc_b_emit(b, "cast", GC_OP_CAST, 1, &x, NULL, &t);
}

/* Broadcast n operands of one dtype to their common shape, in place. */
static bool broadcast_all(gc_builder *b, const char *op, int n, gc_val *xs) {
  gc_type s;
  if (!common_shape(b, op, n, xs, &s)) return false;
  for (int i = 0; i < n; i++) xs[i] = bcast(b, xs[i], &s);
  return !b->failed;
}

static gc_val binary(gc_builder *b, const char *op, gc_op ir, gc_val x, gc_val y) {
  gc_val xs[2] = {x, y};
  if (gc_b_skip(b, op, 2, xs) || !same_dtype(b, op, 2, xs)) return GC_NONE;
  gc_dtype dt = TY(x).dtype;
  bool float_only = ir == GC_OP_POW;
  bool any = ir == GC_OP_EQ || ir == GC_OP_NE;
  if (!any && (dt == GC_BOOL || (float_only && !gc_dtype_is_float(dt)))) {
    gc_b_fail(b, op, 2, xs, "are not %s", float_only ? "f32 or f64" : "numeric");
    return GC_NONE;
  }
  if (!broadcast_all(b, op, 2, xs)) return GC_NONE;
  return gc_b_emit(b, op, ir, 2, xs, NULL, NULL);
}

gc_val gc_add(gc_builder *b, gc_val x, gc_val y) { return binary(b, "add", GC_OP_ADD, x, y); }
gc_val gc_sub(gc_builder *b, gc_val x, gc_val y) { return binary(b, "sub", GC_OP_SUB, x, y); }
gc_val gc_mul(gc_builder *b, gc_val x, gc_val y) { return binary(b, "mul", GC_OP_MUL, x, y); }
gc_val gc_div(gc_builder *b, gc_val x, gc_val y) { return binary(b, "div", GC_OP_DIV, x, y); }
gc_val gc_max(gc_builder *b, gc_val x, gc_val y) { return binary(b, "max", GC_OP_MAX, x, y); }
gc_val gc_min(gc_builder *b, gc_val x, gc_val y) { return binary(b, "min", GC_OP_MIN, x, y); }
gc_val gc_pow(gc_builder *b, gc_val x, gc_val y) { return binary(b, "pow", GC_OP_POW, x, y); }
gc_val gc_lt(gc_builder *b, gc_val x, gc_val y) { return binary(b, "lt", GC_OP_LT, x, y); }
gc_val gc_le(gc_builder *b, gc_val x, gc_val y) { return binary(b, "le", GC_OP_LE, x, y); }
gc_val gc_gt(gc_builder *b, gc_val x, gc_val y) { return binary(b, "gt", GC_OP_LT, y, x); }
gc_val gc_ge(gc_builder *b, gc_val x, gc_val y) { return binary(b, "ge", GC_OP_LE, y, x); }
gc_val gc_eq(gc_builder *b, gc_val x, gc_val y) { return binary(b, "eq", GC_OP_EQ, x, y); }
gc_val gc_ne(gc_builder *b, gc_val x, gc_val y) { return binary(b, "ne", GC_OP_NE, x, y); }

/* x OP c, with c a constant of x's type. */
static gc_val with_number(gc_builder *b, const char *op, gc_op ir, gc_val x, double c) {
  if (gc_b_skip(b, op, 1, &x)) return GC_NONE;
  return binary(b, op, ir, x, gc_const_like(b, x, c));
}

gc_val gc_addf(gc_builder *b, gc_val x, double c) { return with_number(b, "add", GC_OP_ADD, x, c); }
gc_val gc_subf(gc_builder *b, gc_val x, double c) { return with_number(b, "sub", GC_OP_SUB, x, c); }
gc_val gc_mulf(gc_builder *b, gc_val x, double c) { return with_number(b, "mul", GC_OP_MUL, x, c); }
gc_val gc_divf(gc_builder *b, gc_val x, double c) { return with_number(b, "div", GC_OP_DIV, x, c); }
gc_val gc_maxf(gc_builder *b, gc_val x, double c) { return with_number(b, "max", GC_OP_MAX, x, c); }
gc_val gc_minf(gc_builder *b, gc_val x, double c) { return with_number(b, "min", GC_OP_MIN, x, c); }
gc_val gc_powf(gc_builder *b, gc_val x, double c) { return with_number(b, "pow", GC_OP_POW, x, c); }

gc_val gc_where(gc_builder *b, gc_val cond, gc_val x, gc_val y) {
  gc_val xs[3] = {cond, x, y};
  if (gc_b_skip(b, "where", 3, xs)) return GC_NONE;
  if (TY(cond).dtype != GC_BOOL) {
    gc_b_fail(b, "where", 3, xs, "have a condition that is not bool");
    return GC_NONE;
  }
  if (!same_dtype(b, "where", 2, xs + 1) || !broadcast_all(b, "where", 3, xs)) return GC_NONE;
  return gc_b_emit(b, "where", GC_OP_WHERE, 3, xs, NULL, NULL);
}

/* ---- layout ------------------------------------------------------------ */

gc_val gc_reshape(gc_builder *b, gc_val x, int rank, const int64_t *dims) {
  if (!shape_arg_ok(b, "reshape", x, rank, dims)) return GC_NONE;
  gc_type t = gc_type_make(TY(x).dtype, rank, dims);
  int64_t known = 1, total = gc_type_numel_unchecked(&TY(x));
  int infer = -1;
  for (int i = 0; i < rank; i++) {
    if (dims[i] == -1 && infer < 0) infer = i;
    else if (dims[i] < 0) {
      gc_b_fail(b, "reshape", 1, &x, "cannot take dim %lld (only one -1 is allowed)", (long long)dims[i]);
      return GC_NONE;
    } else known *= dims[i];
  }
  if (infer >= 0) t.dims[infer] = known && total % known == 0 ? total / known : -1;
  if ((infer >= 0 && t.dims[infer] < 0) || (infer < 0 && known != total)) {
    char s[GC_TYPE_STR_MAX * 2] = "[";
    for (int i = 0; i < rank; i++)
      snprintf(s + strlen(s), sizeof s - strlen(s), "%s%lld", i ? "," : "", (long long)dims[i]);
    strcat(s, "]");
    gc_b_fail(b, "reshape", 1, &x, "cannot be reshaped to %s", s);
    return GC_NONE;
  }
  if (gc_type_equal(&t, &TY(x))) return x;
  return gc_b_emit(b, "reshape", GC_OP_RESHAPE, 1, &x, NULL, &t);
}

gc_val gc_unsqueeze(gc_builder *b, gc_val x, int axis) {
  if (gc_b_skip(b, "unsqueeze", 1, &x)) return GC_NONE;
  gc_type t = TY(x);
  int ax = gc_b_axis(axis, t.rank + 1);
  if (ax < 0 || t.rank == GC_MAX_RANK) {
    gc_b_fail(b, "unsqueeze", 1, &x, "has no axis %d to insert", axis);
    return GC_NONE;
  }
  memmove(t.dims + ax + 1, t.dims + ax, sizeof(int64_t) * (size_t)(t.rank - ax));
  t.dims[ax] = 1;
  t.rank++;
  return gc_reshape(b, x, t.rank, t.dims);
}

gc_val gc_flatten(gc_builder *b, gc_val x) { return gc_reshape(b, x, GC_SHAPE(-1)); }

gc_val gc_transpose(gc_builder *b, gc_val x, int n, const int *perm) {
  if (gc_b_skip(b, "transpose", 1, &x)) return GC_NONE;
  gc_attrs a = {.perm = {.perm = {.n = n}}};
  bool seen[GC_MAX_RANK] = {false}, identity = true;
  bool ok = n == TY(x).rank;
  for (int i = 0; ok && i < n; i++) {
    int p = gc_b_axis(perm[i], n);
    ok = p >= 0 && !seen[p];
    if (ok) seen[p] = true;
    a.perm.perm.v[i] = p;
    identity = identity && p == i;
  }
  if (!ok) {
    gc_b_fail(b, "transpose", 1, &x, "does not fit the permutation given (%d entries)", n);
    return GC_NONE;
  }
  if (identity) return x;
  return gc_b_emit(b, "transpose", GC_OP_TRANSPOSE, 1, &x, &a, NULL);
}

gc_val gc_swap_axes(gc_builder *b, gc_val x, int a1, int a2) {
  if (gc_b_skip(b, "swap_axes", 1, &x)) return GC_NONE;
  int r = TY(x).rank, p[GC_MAX_RANK];
  int i1 = gc_b_axis(a1, r), i2 = gc_b_axis(a2, r);
  if (i1 < 0 || i2 < 0) {
    gc_b_fail(b, "swap_axes", 1, &x, "has no axes %d and %d", a1, a2);
    return GC_NONE;
  }
  for (int i = 0; i < r; i++) p[i] = i;
  p[i1] = i2;
  p[i2] = i1;
  return gc_transpose(b, x, r, p);
}

static int64_t clamp_index(int64_t i, int64_t dim) {
  if (i < 0) i += dim;
  return i < 0 ? 0 : i > dim ? dim : i;
}

gc_val gc_slice(gc_builder *b, gc_val x, int axis, int64_t start, int64_t stop, int64_t step) {
  if (gc_b_skip(b, "slice", 1, &x)) return GC_NONE;
  gc_type t = TY(x);
  int ax = gc_b_axis(axis, t.rank);
  if (ax < 0 || step < 1) {
    gc_b_fail(b, "slice", 1, &x, "cannot be sliced on axis %d with step %lld", axis, (long long)step);
    return GC_NONE;
  }
  gc_attrs a;
  gc_attrs_defaults(GC_OP_SLICE, &a);
  a.slice.start.n = a.slice.stop.n = a.slice.step.n = t.rank;
  for (int i = 0; i < t.rank; i++) {
    a.slice.start.v[i] = 0;
    a.slice.stop.v[i] = t.dims[i];
    a.slice.step.v[i] = 1;
  }
  int64_t lo = clamp_index(start, t.dims[ax]), hi = clamp_index(stop, t.dims[ax]);
  a.slice.start.v[ax] = lo;
  a.slice.stop.v[ax] = hi < lo ? lo : hi;
  a.slice.step.v[ax] = step;
  if (lo == 0 && hi == t.dims[ax] && step == 1) return x;
  return gc_b_emit(b, "slice", GC_OP_SLICE, 1, &x, &a, NULL);
}

gc_val gc_concat(gc_builder *b, int n, const gc_val *xs, int axis) {
  if (n < 1 || !xs) {
    gc_b_fail(b, "concat", 0, NULL, "needs at least one operand");
    return GC_NONE;
  }
  if (gc_b_skip(b, "concat", n, xs)) return GC_NONE;
  if (n == 1) return xs[0];
  int ax = gc_b_axis(axis, TY(xs[0]).rank);
  if (ax < 0) {
    gc_b_fail(b, "concat", n, xs, "have no axis %d", axis);
    return GC_NONE;
  }
  for (int i = 1; i < n; i++) {
    gc_type p = TY(xs[0]), q = TY(xs[i]);
    bool ok = p.dtype == q.dtype && p.rank == q.rank;
    for (int k = 0; ok && k < p.rank; k++) ok = k == ax || p.dims[k] == q.dims[k];
    if (!ok) {
      gc_b_fail(b, "concat", n, xs, "do not match except on axis %d", axis);
      return GC_NONE;
    }
  }
  gc_attrs a = {.axis = {.axis = ax}};
  return gc_b_emit(b, "concat", GC_OP_CONCAT, n, xs, &a, NULL);
}

gc_val gc_pad(gc_builder *b, gc_val x, const int64_t *lo, const int64_t *hi, double value) {
  if (gc_b_skip(b, "pad", 1, &x)) return GC_NONE;
  int r = TY(x).rank;
  gc_attrs a = {.pad = {.lo = {.n = r}, .hi = {.n = r}, .value = value}};
  for (int i = 0; i < r; i++) {
    if (lo[i] < 0 || hi[i] < 0) {
      gc_b_fail(b, "pad", 1, &x, "cannot take negative padding on axis %d", i);
      return GC_NONE;
    }
    a.pad.lo.v[i] = lo[i];
    a.pad.hi.v[i] = hi[i];
  }
  return gc_b_emit(b, "pad", GC_OP_PAD, 1, &x, &a, NULL);
}

/* ---- reductions -------------------------------------------------------- */

static bool reduce_axes(gc_builder *b, const char *op, gc_val x, int n, const int *axes, gc_ilist *out) {
  int r = TY(x).rank;
  bool seen[GC_MAX_RANK] = {false};
  out->n = 0;
  if (n < 0 || n > r) {
    gc_b_fail(b, op, 1, &x, "cannot reduce %d axes", n);
    return false;
  }
  for (int i = 0; i < n; i++) {
    int a = gc_b_axis(axes[i], r);
    if (a < 0 || seen[a]) {
      gc_b_fail(b, op, 1, &x, "has no axis %d%s", axes[i], a >= 0 ? " to reduce twice" : "");
      return false;
    }
    seen[a] = true;
    out->v[out->n++] = a;
  }
  return true;
}

static gc_val reduce(gc_builder *b, const char *op, gc_op ir, gc_val x, int n, const int *axes,
                     bool keepdims) {
  if (gc_b_skip(b, op, 1, &x)) return GC_NONE;
  gc_attrs a = {.reduce = {.keepdims = keepdims}};
  if (!reduce_axes(b, op, x, n, axes, &a.reduce.axes)) return GC_NONE;
  if (TY(x).dtype == GC_BOOL) {
    gc_b_fail(b, op, 1, &x, "is not numeric (cast bool first)");
    return GC_NONE;
  }
  if (n == 0) return x;
  return gc_b_emit(b, op, ir, 1, &x, &a, NULL);
}

gc_val gc_sum(gc_builder *b, gc_val x, int n, const int *axes, bool keepdims) {
  return reduce(b, "sum", GC_OP_REDUCE_SUM, x, n, axes, keepdims);
}

gc_val gc_max_reduce(gc_builder *b, gc_val x, int n, const int *axes, bool keepdims) {
  return reduce(b, "max_reduce", GC_OP_REDUCE_MAX, x, n, axes, keepdims);
}

gc_val gc_mean(gc_builder *b, gc_val x, int n, const int *axes, bool keepdims) {
  if (gc_b_skip(b, "mean", 1, &x)) return GC_NONE;
  if (!gc_dtype_is_float(TY(x).dtype)) {
    gc_b_fail(b, "mean", 1, &x, "is not f32 or f64");
    return GC_NONE;
  }
  gc_ilist ax;
  if (!reduce_axes(b, "mean", x, n, axes, &ax)) return GC_NONE;
  int64_t count = 1;
  for (int i = 0; i < ax.n; i++) count *= TY(x).dims[ax.v[i]];
  gc_val s = gc_sum(b, x, n, axes, keepdims);
  return count == 1 ? s : gc_mulf(b, s, 1.0 / (double)count);
}

static int all_axes(int rank, int *axes) {
  for (int i = 0; i < rank; i++) axes[i] = i;
  return rank;
}

gc_val gc_sum_all(gc_builder *b, gc_val x) {
  int axes[GC_MAX_RANK];
  if (gc_b_skip(b, "sum", 1, &x)) return GC_NONE;
  return gc_sum(b, x, all_axes(TY(x).rank, axes), axes, false);
}

gc_val gc_mean_all(gc_builder *b, gc_val x) {
  int axes[GC_MAX_RANK];
  if (gc_b_skip(b, "mean", 1, &x)) return GC_NONE;
  return gc_mean(b, x, all_axes(TY(x).rank, axes), axes, false);
}

gc_val gc_argmax(gc_builder *b, gc_val x, int axis, bool keepdims) {
  if (gc_b_skip(b, "argmax", 1, &x)) return GC_NONE;
  int ax = gc_b_axis(axis, TY(x).rank);
  if (ax < 0 || TY(x).dtype == GC_BOOL) {
    gc_b_fail(b, "argmax", 1, &x, "has no numeric axis %d", axis);
    return GC_NONE;
  }
  gc_attrs a = {.argmax = {.axis = ax, .keepdims = keepdims}};
  return gc_b_emit(b, "argmax", GC_OP_ARGMAX, 1, &x, &a, NULL);
}

/* ---- matmul and gather ------------------------------------------------- */

gc_val gc_matmul_t(gc_builder *b, gc_val x, gc_val y, bool transpose_x, bool transpose_y) {
  gc_val xs[2] = {x, y};
  if (gc_b_skip(b, "matmul", 2, xs) || !same_dtype(b, "matmul", 2, xs)) return GC_NONE;
  gc_type tx = TY(x), ty = TY(y);
  if (tx.rank < 2 || ty.rank < 2 || !gc_dtype_is_float(tx.dtype)) {
    gc_b_fail(b, "matmul", 2, xs, "must be f32 or f64 of rank >= 2 here");
    return GC_NONE;
  }
  int64_t kx = tx.dims[tx.rank - (transpose_x ? 2 : 1)], ky = ty.dims[ty.rank - (transpose_y ? 1 : 2)];
  if (kx != ky) {
    gc_b_fail(b, "matmul", 2, xs, "do not contract (%lld vs %lld%s)", (long long)kx, (long long)ky,
              transpose_x || transpose_y ? ", after the transposes asked for" : "");
    return GC_NONE;
  }
  int nb = (tx.rank > ty.rank ? tx.rank : ty.rank) - 2;
  for (int i = 0; i < nb; i++) {
    int ix = i - (nb - (tx.rank - 2)), iy = i - (nb - (ty.rank - 2));
    int64_t dx = ix >= 0 ? tx.dims[ix] : 1, dy = iy >= 0 ? ty.dims[iy] : 1;
    if (dx != dy && dx != 1 && dy != 1) {
      gc_b_fail(b, "matmul", 2, xs, "have batch dims that do not broadcast");
      return GC_NONE;
    }
  }
  gc_attrs a = {.dot = {.transpose_a = transpose_x, .transpose_b = transpose_y}};
  return gc_b_emit(b, "matmul", GC_OP_DOT, 2, xs, &a, NULL);
}

gc_val gc_matmul(gc_builder *b, gc_val x, gc_val y) {
  gc_val xs[2] = {x, y};
  if (gc_b_skip(b, "matmul", 2, xs)) return GC_NONE;
  gc_type tx = TY(x), ty = TY(y);
  if (tx.rank < 1 || ty.rank < 1) {
    gc_b_fail(b, "matmul", 2, xs, "must have rank >= 1");
    return GC_NONE;
  }
  if (tx.rank >= 2 && ty.rank >= 2) return gc_matmul_t(b, x, y, false, false);
  /* numpy: a 1-D x is [1,K], a 1-D y is [K,1]; the added dims go again. */
  int64_t kx = tx.dims[tx.rank - 1], ky = ty.dims[ty.rank >= 2 ? ty.rank - 2 : 0];
  if (kx != ky) {
    gc_b_fail(b, "matmul", 2, xs, "do not contract (%lld vs %lld)", (long long)kx, (long long)ky);
    return GC_NONE;
  }
  gc_val x2 = tx.rank == 1 ? gc_reshape(b, x, GC_SHAPE(1, kx)) : x;
  gc_val y2 = ty.rank == 1 ? gc_reshape(b, y, GC_SHAPE(ky, 1)) : y;
  gc_val r = gc_matmul_t(b, x2, y2, false, false);
  if (b->failed) return GC_NONE;
  gc_type t = TY(r), out = t;
  out.rank = t.rank - 2;                                  /* the batch dims */
  if (tx.rank >= 2) out.dims[out.rank++] = t.dims[t.rank - 2];
  if (ty.rank >= 2) out.dims[out.rank++] = t.dims[t.rank - 1];
  return gc_reshape(b, r, out.rank, out.dims);
}

gc_val gc_gather_axis(gc_builder *b, gc_val table, gc_val idx, int axis) {
  gc_val xs[2] = {table, idx};
  if (gc_b_skip(b, "gather", 2, xs)) return GC_NONE;
  int ax = gc_b_axis(axis, TY(table).rank);
  if (ax < 0 || !gc_dtype_is_int(TY(idx).dtype)) {
    gc_b_fail(b, "gather", 2, xs, "cannot gather on axis %d with these indices (i32 or i64 needed)", axis);
    return GC_NONE;
  }
  gc_attrs a = {.axis = {.axis = ax}};
  return gc_b_emit(b, "gather", GC_OP_GATHER, 2, xs, &a, NULL);
}

gc_val gc_gather(gc_builder *b, gc_val table, gc_val idx) { return gc_gather_axis(b, table, idx, 0); }
