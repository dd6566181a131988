/* Node-emitting helpers for the VJP rules (see emit.h). */
#include "emit.h"

#include <string.h>

void ad_init(ad_ctx *c, gc_graph *g, gc_diag *d) {
  memset(c, 0, sizeof *c);
  gc_emitter_init(&c->em, g, d);
}

/* True (and the context failed) when a previous step failed or x is missing. */
static bool missing(ad_ctx *c, int x) {
  if (x < 0) gc_emitter_fail(&c->em, "autodiff: an operand is missing");
  return c->em.failed;
}

int em_node(ad_ctx *c, gc_op op, const int *in, int n_in, const gc_attrs *a, const gc_type *declared) {
  for (int i = 0; i < n_in; i++)
    if (missing(c, in[i])) return -1;
  return gc_emit(&c->em, op, in, n_in, a, declared);
}

int em_const(ad_ctx *c, double value, const gc_type *t) {
  for (int i = 0; i < c->n_consts; i++)
    if (c->consts[i].value == value && gc_type_equal(&c->consts[i].type, t)) return c->consts[i].node;
  gc_attrs a = {.value = {.value = value}};
  int id = em_node(c, GC_OP_CONST, NULL, 0, &a, t);
  if (id >= 0 && c->n_consts < AD_CONST_CACHE) {
    c->consts[c->n_consts].type = *t;
    c->consts[c->n_consts].value = value;
    c->consts[c->n_consts++].node = id;
  }
  return id;
}

int em_const_like(ad_ctx *c, double value, int like) {
  if (missing(c, like)) return -1;
  return em_const(c, value, ad_type(c, like));
}

int em_unary(ad_ctx *c, gc_op op, int x) { return em_node(c, op, (int[]){x}, 1, NULL, NULL); }

int em_binary(ad_ctx *c, gc_op op, int a, int b) { return em_node(c, op, (int[]){a, b}, 2, NULL, NULL); }

int em_scale(ad_ctx *c, int x, double k) { return em_binary(c, GC_OP_MUL, x, em_const_like(c, k, x)); }

int em_where(ad_ctx *c, int cond, int a, int b) {
  return em_node(c, GC_OP_WHERE, (int[]){cond, a, b}, 3, NULL, NULL);
}

int em_cast(ad_ctx *c, int x, gc_dtype dt) {
  if (missing(c, x)) return -1;
  if (ad_type(c, x)->dtype == dt) return x;
  gc_type t = *ad_type(c, x);
  t.dtype = dt;
  return em_node(c, GC_OP_CAST, (int[]){x}, 1, NULL, &t);
}

static int same_type_or_emit(ad_ctx *c, gc_op op, int x, const gc_type *t) {
  if (missing(c, x)) return -1;
  if (gc_type_equal(ad_type(c, x), t)) return x;
  return em_node(c, op, (int[]){x}, 1, NULL, t);
}

int em_broadcast(ad_ctx *c, int x, const gc_type *t) { return same_type_or_emit(c, GC_OP_BROADCAST, x, t); }

int em_reshape(ad_ctx *c, int x, const gc_type *t) { return same_type_or_emit(c, GC_OP_RESHAPE, x, t); }

int em_transpose(ad_ctx *c, int x, const gc_ilist *perm) {
  gc_attrs a = {.perm = {.perm = *perm}};
  return em_node(c, GC_OP_TRANSPOSE, (int[]){x}, 1, &a, NULL);
}

int em_slice(ad_ctx *c, int x, const gc_ilist *start, const gc_ilist *stop, const gc_ilist *step) {
  gc_attrs a = {.slice = {.start = *start, .stop = *stop}};
  if (step) a.slice.step = *step;
  return em_node(c, GC_OP_SLICE, (int[]){x}, 1, &a, NULL);
}

int em_pad(ad_ctx *c, int x, const gc_ilist *lo, const gc_ilist *hi) {
  gc_attrs a = {.pad = {.lo = *lo, .hi = *hi, .value = 0.0}};
  return em_node(c, GC_OP_PAD, (int[]){x}, 1, &a, NULL);
}

int em_reduce_sum(ad_ctx *c, int x, const gc_ilist *axes, bool keepdims) {
  gc_attrs a = {.reduce = {.axes = *axes, .keepdims = keepdims}};
  return em_node(c, GC_OP_REDUCE_SUM, (int[]){x}, 1, &a, NULL);
}

int em_dot(ad_ctx *c, int a, int b, bool transpose_a, bool transpose_b) {
  gc_attrs at = {.dot = {.transpose_a = transpose_a, .transpose_b = transpose_b}};
  return em_node(c, GC_OP_DOT, (int[]){a, b}, 2, &at, NULL);
}

int em_gather(ad_ctx *c, int table, int idx, int64_t axis) {
  gc_attrs a = {.axis = {.axis = axis}};
  return em_node(c, GC_OP_GATHER, (int[]){table, idx}, 2, &a, NULL);
}

int em_scatter_add(ad_ctx *c, int idx, int src, int64_t axis, const gc_type *t) {
  gc_attrs a = {.axis = {.axis = axis}};
  return em_node(c, GC_OP_SCATTER_ADD, (int[]){idx, src}, 2, &a, t);
}

int em_iota(ad_ctx *c, const gc_type *t, int64_t axis) {
  gc_attrs a = {.axis = {.axis = axis}};
  return em_node(c, GC_OP_IOTA, NULL, 0, &a, t);
}

int em_sum_to(ad_ctx *c, int x, const gc_type *target) {
  if (missing(c, x)) return -1;
  const gc_type *t = ad_type(c, x);
  if (gc_shape_equal(t, target)) return x;
  gc_ilist axes = {0};
  int lead = t->rank - target->rank;
  for (int i = 0; i < t->rank; i++) {
    int j = i - lead;
    if (j < 0 || (target->dims[j] == 1 && t->dims[i] != 1)) axes.v[axes.n++] = i;
  }
  int r = axes.n ? em_reduce_sum(c, x, &axes, false) : x;
  return em_reshape(c, r, target);
}

int em_unreduce(ad_ctx *c, int x, const gc_type *full, const gc_ilist *axes) {
  if (missing(c, x)) return -1;
  gc_type kept = *full;
  kept.dtype = ad_type(c, x)->dtype;
  for (int i = 0; i < axes->n; i++) kept.dims[axes->v[i]] = 1;
  return em_broadcast(c, em_reshape(c, x, &kept), full);
}
