/* tests/autodiff/graphs.h — a small graph-building layer for the autodiff
 * tests (header only), so they do not depend on frontend/.  Every helper
 * appends through gc_graph_add and fails the running cmocka test with the
 * IR's message when a node is refused.  All values are f64 unless given.
 *
 * Composites (softmax, norms, GELU, SiLU, cross-entropy, attention, a
 * pre-norm transformer block) are built from primitives the way frontend/
 * builds them. */
#ifndef GC_TESTS_AUTODIFF_GRAPHS_H
#define GC_TESTS_AUTODIFF_GRAPHS_H

#include "tests/testutil.h"
#include "ir/ir.h"

#include <math.h>
#include <string.h>

#define GB_DIMS(...) ((int64_t[]){__VA_ARGS__}), (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t))
/* TY(f64, 2, 3) is f64[2,3]; TY0(f64) is f64[]. */
#define TY(dt, ...) gb_type(GC_##dt, GB_DIMS(__VA_ARGS__))
#define TY0(dt) gc_type_make(GC_##dt, 0, NULL)
#define IL(...) gb_ilist(GB_DIMS(__VA_ARGS__))
#define IL0() ((gc_ilist){0})

static inline gc_type gb_type(gc_dtype dt, const int64_t *dims, int rank) {
  return gc_type_make(dt, rank, dims);
}

static inline gc_ilist gb_ilist(const int64_t *v, int n) {
  gc_ilist l = {.n = n};
  for (int i = 0; i < n; i++) l.v[i] = v[i];
  return l;
}

static inline const gc_type *gb_t(const gc_graph *g, int x) { return &g->nodes[x]->type; }

static inline int gb_add(gc_graph *g, gc_op op, const int *in, int n, const gc_attrs *a, const gc_type *t) {
  gc_diag d;
  int id = gc_graph_add(g, op, in, n, a, t, &d);
  if (id < 0) fail_msg("building %s: %s", gc_op_name(op), d.msg);
  return id;
}

/* ---- primitives ---- */

static inline int gb_param(gc_graph *g, const char *name, gc_type t) {
  gc_attrs a = {.name = {.name = name}};
  return gb_add(g, GC_OP_PARAM, NULL, 0, &a, &t);
}
static inline int gb_input(gc_graph *g, const char *name, gc_type t) {
  gc_attrs a = {.name = {.name = name}};
  return gb_add(g, GC_OP_INPUT, NULL, 0, &a, &t);
}
static inline int gb_const(gc_graph *g, double v, gc_type t) {
  gc_attrs a = {.value = {.value = v}};
  return gb_add(g, GC_OP_CONST, NULL, 0, &a, &t);
}
static inline int gb_const_like(gc_graph *g, double v, int x) { return gb_const(g, v, *gb_t(g, x)); }
static inline int gb_iota(gc_graph *g, gc_type t, int axis) {
  gc_attrs a = {.axis = {.axis = axis}};
  return gb_add(g, GC_OP_IOTA, NULL, 0, &a, &t);
}
static inline int gb_un(gc_graph *g, gc_op op, int x) { return gb_add(g, op, (int[]){x}, 1, NULL, NULL); }
static inline int gb_bin(gc_graph *g, gc_op op, int a, int b) {
  return gb_add(g, op, (int[]){a, b}, 2, NULL, NULL);
}
static inline int gb_where(gc_graph *g, int c, int a, int b) {
  return gb_add(g, GC_OP_WHERE, (int[]){c, a, b}, 3, NULL, NULL);
}
static inline int gb_cast(gc_graph *g, int x, gc_dtype dt) {
  gc_type t = *gb_t(g, x);
  t.dtype = dt;
  return gb_add(g, GC_OP_CAST, (int[]){x}, 1, NULL, &t);
}
static inline int gb_bcast(gc_graph *g, int x, gc_type t) {
  t.dtype = gb_t(g, x)->dtype;
  return gb_add(g, GC_OP_BROADCAST, (int[]){x}, 1, NULL, &t);
}
static inline int gb_reshape(gc_graph *g, int x, gc_type t) {
  t.dtype = gb_t(g, x)->dtype;
  return gb_add(g, GC_OP_RESHAPE, (int[]){x}, 1, NULL, &t);
}
static inline int gb_transpose(gc_graph *g, int x, gc_ilist perm) {
  gc_attrs a = {.perm = {.perm = perm}};
  return gb_add(g, GC_OP_TRANSPOSE, (int[]){x}, 1, &a, NULL);
}
static inline int gb_slice(gc_graph *g, int x, gc_ilist start, gc_ilist stop, gc_ilist step) {
  gc_attrs a = {.slice = {.start = start, .stop = stop, .step = step}};
  return gb_add(g, GC_OP_SLICE, (int[]){x}, 1, &a, NULL);
}
static inline int gb_pad(gc_graph *g, int x, gc_ilist lo, gc_ilist hi, double value) {
  gc_attrs a = {.pad = {.lo = lo, .hi = hi, .value = value}};
  return gb_add(g, GC_OP_PAD, (int[]){x}, 1, &a, NULL);
}
static inline int gb_concat(gc_graph *g, const int *xs, int n, int axis) {
  gc_attrs a = {.axis = {.axis = axis}};
  return gb_add(g, GC_OP_CONCAT, xs, n, &a, NULL);
}
static inline int gb_reduce(gc_graph *g, gc_op op, int x, gc_ilist axes, bool keep) {
  gc_attrs a = {.reduce = {.axes = axes, .keepdims = keep}};
  return gb_add(g, op, (int[]){x}, 1, &a, NULL);
}
static inline int gb_argmax(gc_graph *g, int x, int axis, bool keep) {
  gc_attrs a = {.argmax = {.axis = axis, .keepdims = keep}};
  return gb_add(g, GC_OP_ARGMAX, (int[]){x}, 1, &a, NULL);
}
static inline int gb_dot(gc_graph *g, int a, int b, bool ta, bool tb) {
  gc_attrs at = {.dot = {.transpose_a = ta, .transpose_b = tb}};
  return gb_add(g, GC_OP_DOT, (int[]){a, b}, 2, &at, NULL);
}
static inline int gb_gather(gc_graph *g, int table, int idx, int axis) {
  gc_attrs a = {.axis = {.axis = axis}};
  return gb_add(g, GC_OP_GATHER, (int[]){table, idx}, 2, &a, NULL);
}
static inline int gb_scatter(gc_graph *g, int idx, int src, int axis, gc_type t) {
  gc_attrs a = {.axis = {.axis = axis}};
  return gb_add(g, GC_OP_SCATTER_ADD, (int[]){idx, src}, 2, &a, &t);
}
static inline void gb_output(gc_graph *g, const char *name, int x) {
  gc_diag d;
  if (gc_graph_add_output(g, name, x, &d)) fail_msg("output %s: %s", name, d.msg);
}

/* ---- numpy-style conveniences ---- */

/* Broadcast a and b to their common shape, then apply op. */
static inline int gb_nb(gc_graph *g, gc_op op, int a, int b) {
  const gc_type *ta = gb_t(g, a), *tb = gb_t(g, b);
  gc_type t = ta->rank >= tb->rank ? *ta : *tb;
  for (int i = 0; i < t.rank; i++) {
    int ia = i - (t.rank - ta->rank), ib = i - (t.rank - tb->rank);
    int64_t da = ia >= 0 ? ta->dims[ia] : 1, db = ib >= 0 ? tb->dims[ib] : 1;
    t.dims[i] = da == 1 ? db : da;
  }
  t.dtype = ta->dtype;
  if (!gc_shape_equal(ta, &t)) a = gb_bcast(g, a, t);
  if (!gc_shape_equal(tb, &t)) b = gb_bcast(g, b, t);
  return gb_bin(g, op, a, b);
}
/* x op scalar */
static inline int gb_ks(gc_graph *g, gc_op op, int x, double k) { return gb_bin(g, op, x, gb_const_like(g, k, x)); }
static inline int gb_last(gc_graph *g, gc_op op, int x) {
  return gb_reduce(g, op, x, IL(gb_t(g, x)->rank - 1), true);
}
static inline int gb_sum_all(gc_graph *g, int x) {
  gc_ilist axes = {.n = gb_t(g, x)->rank};
  for (int i = 0; i < axes.n; i++) axes.v[i] = i;
  return gb_reduce(g, GC_OP_REDUCE_SUM, x, axes, false);
}
/* sum(x * w): a scalar loss with non-trivial weights per element. */
static inline int gb_weighted_sum(gc_graph *g, int x, int w) { return gb_sum_all(g, gb_bin(g, GC_OP_MUL, x, w)); }

/* ---- composites ---- */

static inline int gb_softmax(gc_graph *g, int x) {
  int xm = gb_nb(g, GC_OP_SUB, x, gb_last(g, GC_OP_REDUCE_MAX, x));
  int e = gb_un(g, GC_OP_EXP, xm);
  return gb_nb(g, GC_OP_DIV, e, gb_last(g, GC_OP_REDUCE_SUM, e));
}

static inline int gb_log_softmax(gc_graph *g, int x) {
  int xm = gb_nb(g, GC_OP_SUB, x, gb_last(g, GC_OP_REDUCE_MAX, x));
  int lse = gb_un(g, GC_OP_LOG, gb_last(g, GC_OP_REDUCE_SUM, gb_un(g, GC_OP_EXP, xm)));
  return gb_nb(g, GC_OP_SUB, xm, lse);
}

static inline int gb_mean_last(gc_graph *g, int x) {
  const gc_type *t = gb_t(g, x);
  return gb_ks(g, GC_OP_DIV, gb_last(g, GC_OP_REDUCE_SUM, x), (double)t->dims[t->rank - 1]);
}

static inline int gb_layer_norm(gc_graph *g, int x, int gamma, int beta, double eps) {
  int xc = gb_nb(g, GC_OP_SUB, x, gb_mean_last(g, x));
  int var = gb_mean_last(g, gb_bin(g, GC_OP_MUL, xc, xc));
  int r = gb_un(g, GC_OP_RSQRT, gb_ks(g, GC_OP_ADD, var, eps));
  int y = gb_nb(g, GC_OP_MUL, xc, r);
  return gb_nb(g, GC_OP_ADD, gb_nb(g, GC_OP_MUL, y, gamma), beta);
}

static inline int gb_rms_norm(gc_graph *g, int x, int w, double eps) {
  int ms = gb_mean_last(g, gb_bin(g, GC_OP_MUL, x, x));
  int r = gb_un(g, GC_OP_RSQRT, gb_ks(g, GC_OP_ADD, ms, eps));
  return gb_nb(g, GC_OP_MUL, gb_nb(g, GC_OP_MUL, x, r), w);
}

/* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
static inline int gb_gelu_tanh(gc_graph *g, int x) {
  int x3 = gb_bin(g, GC_OP_MUL, gb_bin(g, GC_OP_MUL, x, x), x);
  int u = gb_bin(g, GC_OP_ADD, x, gb_ks(g, GC_OP_MUL, x3, 0.044715));
  int t = gb_un(g, GC_OP_TANH, gb_ks(g, GC_OP_MUL, u, sqrt(2.0 / M_PI)));
  return gb_bin(g, GC_OP_MUL, gb_ks(g, GC_OP_MUL, x, 0.5), gb_ks(g, GC_OP_ADD, t, 1.0));
}

/* 0.5 x (1 + erf(x / sqrt 2)) */
static inline int gb_gelu_erf(gc_graph *g, int x) {
  int e = gb_un(g, GC_OP_ERF, gb_ks(g, GC_OP_MUL, x, M_SQRT1_2));
  return gb_bin(g, GC_OP_MUL, gb_ks(g, GC_OP_MUL, x, 0.5), gb_ks(g, GC_OP_ADD, e, 1.0));
}

static inline int gb_silu(gc_graph *g, int x) { return gb_bin(g, GC_OP_MUL, x, gb_un(g, GC_OP_SIGMOID, x)); }

/* Mean cross-entropy of logits [N,V] against i64 labels [N]; label -100 is
 * ignored.  The label's log-probability is picked with eq(iota, label). */
static inline int gb_cross_entropy(gc_graph *g, int logits, int labels) {
  const gc_type *lt = gb_t(g, logits);
  int64_t n = lt->dims[0], v = lt->dims[1];
  int ls = gb_log_softmax(g, logits);
  int cls = gb_iota(g, TY(I64, n, v), 1);
  int lab = gb_bcast(g, gb_reshape(g, labels, TY(I64, n, 1)), TY(I64, n, v));
  int picked = gb_reduce(g, GC_OP_REDUCE_SUM, gb_where(g, gb_bin(g, GC_OP_EQ, cls, lab), ls, gb_const_like(g, 0, ls)),
                         IL(1), false);
  int valid = gb_bin(g, GC_OP_NE, labels, gb_const_like(g, -100, labels));
  int total = gb_sum_all(g, gb_where(g, valid, picked, gb_const_like(g, 0, picked)));
  int count = gb_sum_all(g, gb_cast(g, valid, lt->dtype));
  count = gb_bin(g, GC_OP_MAX, count, gb_const_like(g, 1, count));
  return gb_un(g, GC_OP_NEG, gb_bin(g, GC_OP_DIV, total, count));
}

/* Causal mask for scores [..., T, T]: -inf above the diagonal. */
static inline int gb_causal_mask(gc_graph *g, int scores) {
  const gc_type *st = gb_t(g, scores);
  int64_t t = st->dims[st->rank - 1];
  int row = gb_iota(g, TY(I64, t, t), 0), col = gb_iota(g, TY(I64, t, t), 1);
  int keep = gb_bin(g, GC_OP_LE, col, row);
  if (st->rank > 2) keep = gb_bcast(g, keep, *st);
  return gb_where(g, keep, scores, gb_const_like(g, -INFINITY, scores));
}

/* Causal self-attention over x [T, D] with `heads` heads of D/heads dims:
 * q,k,v = x W (W [D,D]), per-head softmax(q k^T / sqrt(dh) + mask) v, then Wo. */
static inline int gb_attention(gc_graph *g, int x, int wq, int wk, int wv, int wo, int heads) {
  const gc_type *xt = gb_t(g, x);
  int64_t t = xt->dims[0], dm = xt->dims[1], dh = dm / heads;
  int qkv[3], w[3] = {wq, wk, wv};
  for (int i = 0; i < 3; i++) {
    int p = gb_reshape(g, gb_dot(g, x, w[i], false, false), TY(F64, t, heads, dh));
    qkv[i] = gb_transpose(g, p, IL(1, 0, 2)); /* [H, T, dh] */
  }
  int s = gb_ks(g, GC_OP_MUL, gb_dot(g, qkv[0], qkv[1], false, true), 1.0 / sqrt((double)dh));
  int p = gb_softmax(g, gb_causal_mask(g, s));
  int o = gb_transpose(g, gb_dot(g, p, qkv[2], false, false), IL(1, 0, 2)); /* [T, H, dh] */
  return gb_dot(g, gb_reshape(g, o, TY(F64, t, dm)), wo, false, false);
}

/* The parameters of one pre-norm block. */
typedef struct {
  int ln1_g, ln1_b, wq, wk, wv, wo, ln2_g, ln2_b, w1, b1, w2, b2;
} gb_block;

static inline gb_block gb_block_params(gc_graph *g, int64_t d, int64_t f) {
  gb_block b;
  b.ln1_g = gb_param(g, "ln1.weight", TY(F64, d));
  b.ln1_b = gb_param(g, "ln1.bias", TY(F64, d));
  b.wq = gb_param(g, "attn.q.weight", TY(F64, d, d));
  b.wk = gb_param(g, "attn.k.weight", TY(F64, d, d));
  b.wv = gb_param(g, "attn.v.weight", TY(F64, d, d));
  b.wo = gb_param(g, "attn.o.weight", TY(F64, d, d));
  b.ln2_g = gb_param(g, "ln2.weight", TY(F64, d));
  b.ln2_b = gb_param(g, "ln2.bias", TY(F64, d));
  b.w1 = gb_param(g, "mlp.fc1.weight", TY(F64, d, f));
  b.b1 = gb_param(g, "mlp.fc1.bias", TY(F64, f));
  b.w2 = gb_param(g, "mlp.fc2.weight", TY(F64, f, d));
  b.b2 = gb_param(g, "mlp.fc2.bias", TY(F64, d));
  return b;
}

/* h = x + attn(ln1(x));  y = h + fc2(gelu(fc1(ln2(h)))) */
static inline int gb_block_apply(gc_graph *g, const gb_block *b, int x, int heads) {
  int a = gb_attention(g, gb_layer_norm(g, x, b->ln1_g, b->ln1_b, 1e-5), b->wq, b->wk, b->wv, b->wo, heads);
  int h = gb_bin(g, GC_OP_ADD, x, a);
  int m = gb_nb(g, GC_OP_ADD, gb_dot(g, gb_layer_norm(g, h, b->ln2_g, b->ln2_b, 1e-5), b->w1, false, false), b->b1);
  m = gb_nb(g, GC_OP_ADD, gb_dot(g, gb_gelu_tanh(g, m), b->w2, false, false), b->b2);
  return gb_bin(g, GC_OP_ADD, h, m);
}

#endif
