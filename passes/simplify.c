/* simplify: algebraic identities and constant folding, in one walk.
 *
 * Each node is looked at with its operands already simplified, so chains
 * fold in one pass.  No rule changes a NaN or inf result: there is no
 * x*0 -> 0, x-x -> 0 or x/x -> 1.  Signed zeros are kept too: x + 0 -> x
 * only where x can never be -0 (then x + 0 is x exactly), while x - 0 -> x
 * and x * 1 -> x always are.  One exception: a sum over size-1 axes
 * becomes its operand, so a sum of one -0 is -0 (as numpy and PyTorch
 * give) where the interpreter's sum, starting from +0, gives +0.
 *
 *   x*1, 1*x, x/1, x-0            -> x
 *   x+0, 0+x (x never -0, or integers) -> x
 *   neg(neg(x)), max(x,x), min(x,x), where(c,x,x) -> x
 *   reshape(reshape(x)), broadcast(broadcast(x)) -> one op
 *   transpose(transpose(x))       -> one transpose, or x
 *   broadcast/reshape/cast to x's own type, transpose by the identity -> x
 *   a reduction over size-1 axes  -> a reshape (argmax: zeros); the one
 *                                     element itself, so a -0 stays -0
 *                                     where the interpreter's sum from +0
 *                                     would give +0 (the values compare equal)
 *   an elementwise op of constants, a cast, broadcast, reshape or
 *   transpose of a constant        -> a constant (folded as the interpreter
 *                                     computes it)
 *   a sum or max over every axis of a large value of rank >= 2 (a
 *   gradient's squared norm)       -> over its trailing axes, then over the
 *                                     first: a kernel with no axis left has no
 *                                     loop to share among threads, one with the
 *                                     first axis left shares its rows (a sum
 *                                     in a different order: the same value up
 *                                     to rounding, no NaN or inf changed) */
#include "passes/pass.h"
#include "ir/scalar.h"
#include "ir/rewrite.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  gc_rebuild r;
  const gc_graph *old;
  signed char *never_nz;   /* per new node: 0 not known yet, 1 no, 2 yes */
  int *stack, cap;         /* never_negative_zero's walk */
} simplifier;

static const gc_node *new_node(const simplifier *s, int new_id) { return s->r.em.g->nodes[new_id]; }

/* The new id of old node i's operand k. */
static int operand(const simplifier *s, int i, int k) { return gc_rebuild_id(&s->r, s->old->nodes[i]->in[k]); }

static bool is_const(const gc_node *n, double v) {
  return n->op == GC_OP_CONST && n->attrs.value.value == v && !signbit(n->attrs.value.value) == !signbit(v);
}

/* Whether new node id can never be -0, from what is known of its
 * operands: 2 yes, 1 no, or -k-1 when operand k must be known first (an
 * add is never -0 when either operand is not; a view when its operand is
 * not). */
static int never_nz_step(const simplifier *s, int id) {
  const gc_node *n = new_node(s, id);
  if (!gc_dtype_is_float(n->type.dtype)) return 2;
  switch (n->op) {
  case GC_OP_CONST: return n->attrs.value.value == 0 && signbit(n->attrs.value.value) ? 1 : 2;
  case GC_OP_REDUCE_SUM: case GC_OP_DOT: case GC_OP_SCATTER_ADD:  /* sums start at +0 */
  case GC_OP_ABS: case GC_OP_EXP: case GC_OP_SIGMOID: case GC_OP_IOTA: case GC_OP_RAND_UNIFORM:
    return 2;
  case GC_OP_CAST: return gc_dtype_is_float(new_node(s, n->in[0])->type.dtype) ? 1 : 2;
  case GC_OP_ADD:
    for (int k = 0; k < 2; k++) {
      int known = s->never_nz[n->in[k]];
      if (!known) return -k - 1;
      if (known == 2) return 2;
    }
    return 1;
  case GC_OP_BROADCAST: case GC_OP_RESHAPE: case GC_OP_TRANSPOSE: case GC_OP_SLICE:
    return s->never_nz[n->in[0]] ? s->never_nz[n->in[0]] : -1;
  default: return 1;
  }
}

/* True when the value can never be -0 (so x + 0 is exactly x): known once
 * per node, through an explicit stack (a chain of adds needs no recursion
 * and a shared operand no second look). */
static bool never_negative_zero(simplifier *s, int id) {
  int n = s->r.em.g->n_nodes;
  if (n > s->cap) {
    int cap = s->cap ? s->cap : 256;
    while (cap < n) cap *= 2;
    s->never_nz = realloc(s->never_nz, (size_t)cap);
    s->stack = realloc(s->stack, sizeof *s->stack * (size_t)cap);
    if (!s->never_nz || !s->stack) abort();
    memset(s->never_nz + s->cap, 0, (size_t)(cap - s->cap));
    s->cap = cap;
  }
  int top = 0;
  s->stack[top++] = id;
  while (top) {
    int x = s->stack[top - 1], r = s->never_nz[x] ? s->never_nz[x] : never_nz_step(s, x);
    if (r > 0) {
      s->never_nz[x] = (signed char)r;
      top--;
    } else {
      s->stack[top++] = new_node(s, x)->in[-r - 1];
    }
  }
  return s->never_nz[id] == 2;
}

static int emit_const(simplifier *s, int like, double v, const gc_type *t) {
  gc_attrs a = {.value = {.value = v}};
  return gc_rebuild_emit(&s->r, like, GC_OP_CONST, NULL, 0, &a, t);
}

/* An elementwise op, cast, broadcast, reshape or transpose of constants. */
static int fold(simplifier *s, int i) {
  const gc_node *n = s->old->nodes[i];
  gc_kind kind = gc_op_kind(n->op);
  bool movement = n->op == GC_OP_BROADCAST || n->op == GC_OP_RESHAPE || n->op == GC_OP_TRANSPOSE;
  if (kind != GC_KIND_ELEMENTWISE && !movement) return -1;
  double in[3];
  gc_dtype dt[3];
  for (int k = 0; k < n->n_in; k++) {
    if (k >= 3) return -1;
    const gc_node *o = new_node(s, operand(s, i, k));
    if (o->op != GC_OP_CONST) return -1;
    in[k] = o->attrs.value.value;
    dt[k] = o->type.dtype;
  }
  double v = in[0];
  if (!movement && gc_scalar_eval(n->op, n->type.dtype, dt, in, n->n_in, &v)) return -1;
  return emit_const(s, i, v, &n->type);
}

static bool is_identity_perm(const gc_ilist *p) {
  for (int k = 0; k < p->n; k++)
    if (p->v[k] != k) return false;
  return true;
}

/* Every reduced axis has size 1. */
static bool reduces_nothing(const gc_node *n, const gc_type *in) {
  if (n->op == GC_OP_ARGMAX) return in->dims[n->attrs.argmax.axis] == 1;
  const gc_ilist *axes = &n->attrs.reduce.axes;
  for (int k = 0; k < axes->n; k++)
    if (in->dims[axes->v[k]] != 1) return false;
  return true;
}

/* The new id standing for old node i under an identity, or -1. */
static int identity(simplifier *s, int i) {
  const gc_node *n = s->old->nodes[i];
  int a = n->n_in > 0 ? operand(s, i, 0) : -1, b = n->n_in > 1 ? operand(s, i, 1) : -1;
  const gc_node *na = a >= 0 ? new_node(s, a) : NULL, *nb = b >= 0 ? new_node(s, b) : NULL;
  bool same_a = na && gc_type_equal(&na->type, &n->type), same_b = nb && gc_type_equal(&nb->type, &n->type);
  switch (n->op) {
  case GC_OP_MUL:
    if (same_a && is_const(nb, 1)) return a;
    if (same_b && is_const(na, 1)) return b;
    return -1;
  case GC_OP_DIV: return same_a && is_const(nb, 1) ? a : -1;
  case GC_OP_SUB: return same_a && nb->op == GC_OP_CONST && nb->attrs.value.value == 0 && !signbit(nb->attrs.value.value) ? a : -1;
  case GC_OP_ADD:
    if (same_a && nb->op == GC_OP_CONST && nb->attrs.value.value == 0 &&
        (signbit(nb->attrs.value.value) || never_negative_zero(s, a)))
      return a;
    if (same_b && na->op == GC_OP_CONST && na->attrs.value.value == 0 &&
        (signbit(na->attrs.value.value) || never_negative_zero(s, b)))
      return b;
    return -1;
  case GC_OP_NEG: return na->op == GC_OP_NEG ? na->in[0] : -1;
  case GC_OP_MAX: case GC_OP_MIN: return a == b ? a : -1;
  case GC_OP_WHERE: {
    int c = operand(s, i, 2);
    if (b == c) return b;
    if (na->op == GC_OP_CONST) return na->attrs.value.value != 0 ? b : c;
    return -1;
  }
  case GC_OP_CAST: case GC_OP_BROADCAST: case GC_OP_RESHAPE: return same_a ? a : -1;
  case GC_OP_TRANSPOSE: return is_identity_perm(&n->attrs.perm.perm) ? a : -1;
  default: return -1;
  }
}

enum { SPLIT_REDUCTION_ELEMENTS = 1 << 16, SPLIT_REDUCTION_ROWS = 8 };

/* A sum or max of every element of a large value of rank >= 2 as the
 * reduction of its trailing axes, then of the first; or -1. */
static int split_total_reduction(simplifier *s, int i, int a) {
  const gc_node *n = s->old->nodes[i];
  const gc_type *in = &new_node(s, a)->type;
  if (n->attrs.reduce.keepdims || in->rank < 2 || n->attrs.reduce.axes.n != in->rank ||
      in->dims[0] < SPLIT_REDUCTION_ROWS || gc_type_numel_unchecked(in) < SPLIT_REDUCTION_ELEMENTS)
    return -1;
  gc_attrs rows = n->attrs;
  rows.reduce.axes.n = in->rank - 1;
  for (int k = 1; k < in->rank; k++) rows.reduce.axes.v[k - 1] = k;
  int r = gc_rebuild_emit(&s->r, i, n->op, &a, 1, &rows, NULL);
  gc_attrs first = n->attrs;
  first.reduce.axes.n = 1;
  first.reduce.axes.v[0] = 0;
  return r < 0 ? -1 : gc_rebuild_emit(&s->r, i, n->op, &r, 1, &first, NULL);
}

/* A new node replacing old node i (a cheaper form), or -1. */
static int rewrite(simplifier *s, int i) {
  const gc_node *n = s->old->nodes[i];
  int a = n->n_in > 0 ? operand(s, i, 0) : -1;
  const gc_node *na = a >= 0 ? new_node(s, a) : NULL;
  switch (n->op) {
  case GC_OP_RESHAPE: case GC_OP_BROADCAST:   /* x -> op -> op: one op from x */
    if (na->op != n->op) return -1;
    if (gc_type_equal(&new_node(s, na->in[0])->type, &n->type)) return na->in[0];
    return gc_rebuild_emit(&s->r, i, n->op, &na->in[0], 1, NULL, &n->type);
  case GC_OP_TRANSPOSE: {
    if (na->op != GC_OP_TRANSPOSE) return -1;
    gc_attrs t = n->attrs;   /* out[i] = mid[p2[i]] = x[p1[p2[i]]] */
    for (int k = 0; k < t.perm.perm.n; k++) t.perm.perm.v[k] = na->attrs.perm.perm.v[n->attrs.perm.perm.v[k]];
    if (is_identity_perm(&t.perm.perm)) return na->in[0];
    return gc_rebuild_emit(&s->r, i, GC_OP_TRANSPOSE, &na->in[0], 1, &t, NULL);
  }
  case GC_OP_REDUCE_SUM: case GC_OP_REDUCE_MAX: case GC_OP_ARGMAX:
    if (!reduces_nothing(n, &na->type)) return n->op == GC_OP_ARGMAX ? -1 : split_total_reduction(s, i, a);
    if (n->op == GC_OP_ARGMAX) return emit_const(s, i, 0, &n->type);
    if (gc_type_equal(&na->type, &n->type)) return a;
    return gc_rebuild_emit(&s->r, i, GC_OP_RESHAPE, &a, 1, NULL, &n->type);
  default: return -1;
  }
}

gc_graph *gc_pass_simplify(gc_graph *g, gc_pass_ctx *ctx) {
  simplifier s = {.old = g};
  if (gc_rebuild_begin(&s.r, g, ctx->d)) return NULL;
  for (int i = 0; i < g->n_nodes && !s.r.em.failed; i++) {
    int id = gc_op_is_source(g->nodes[i]->op) ? -1 : fold(&s, i);
    if (id < 0 && !gc_op_is_source(g->nodes[i]->op)) id = identity(&s, i);
    if (id < 0 && !gc_op_is_source(g->nodes[i]->op)) id = rewrite(&s, i);
    if (id < 0) id = gc_rebuild_copy(&s.r, i);
    else gc_rebuild_map(&s.r, i, id);
  }
  free(s.never_nz);
  free(s.stack);
  return gc_rebuild_finish(&s.r);
}
