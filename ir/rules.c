/* Shape and dtype rules: one function per `rule` column of ops.def.
 *
 * A rule sees the operand types, the attributes and the declared result type
 * (NULL when the caller wants it inferred) and writes the result type.  For
 * ops whose `type` column is `declared` (gc_op_declares_type) the declared
 * type is always there: gc_infer_type refuses a call without it. */
#include "ir.h"

#include <stdio.h>
#include <string.h>

typedef struct {
  gc_op op;
  const gc_type *in[64];
  int n_in;
  const gc_attrs *a;
  const gc_type *declared;
  gc_diag *d;
} rule_ctx;

typedef int rule_fn(rule_ctx *c, gc_type *out);

#define TS(t, buf) gc_type_str((t), buf, sizeof buf)
#define OPN (gc_op_name(c->op))

static int check_numel(rule_ctx *c, const gc_type *t) {
  int64_t n;
  char b[GC_TYPE_STR_MAX];
  if (t->rank < 0 || t->rank > GC_MAX_RANK)
    return gc_diag_set(c->d, "%s: rank %d is outside 0..%d", OPN, t->rank, GC_MAX_RANK);
  if (!gc_type_numel(t, &n))
    return gc_diag_set(c->d, "%s: type %s has a negative dim or too many elements", OPN, TS(t, b));
  return 0;
}

static int need_dtype(rule_ctx *c, const gc_type *t, bool ok, const char *what) {
  char b[GC_TYPE_STR_MAX];
  if (ok) return 0;
  return gc_diag_set(c->d, "%s: operand type %s is not %s", OPN, TS(t, b), what);
}

static int need_axis(rule_ctx *c, int64_t axis, int rank) {
  if (axis >= 0 && axis < rank) return 0;
  return gc_diag_set(c->d, "%s: axis %lld is out of range for rank %d", OPN, (long long)axis, rank);
}

static int same_types(rule_ctx *c, int i, int j) {
  char b1[GC_TYPE_STR_MAX], b2[GC_TYPE_STR_MAX];
  if (gc_type_equal(c->in[i], c->in[j])) return 0;
  return gc_diag_set(c->d, "%s: operand types %s and %s must be equal", OPN, TS(c->in[i], b1),
                     TS(c->in[j], b2));
}

/* ---- sources ---- */

static int rule_declared_source(rule_ctx *c, gc_type *out) {
  if (check_numel(c, c->declared)) return -1;
  if (gc_op_is_fed(c->op) && (!c->a->name.name || !c->a->name.name[0]))
    return gc_diag_set(c->d, "%s needs a non-empty name", OPN);
  *out = *c->declared;
  return 0;
}

static int rule_iota(rule_ctx *c, gc_type *out) {
  if (check_numel(c, c->declared)) return -1;
  if (c->declared->dtype == GC_BOOL) return gc_diag_set(c->d, "iota: result cannot be bool");
  if (need_axis(c, c->a->axis.axis, c->declared->rank)) return -1;
  *out = *c->declared;
  return 0;
}

static int rule_rand_uniform(rule_ctx *c, gc_type *out) {
  char b[GC_TYPE_STR_MAX];
  if (check_numel(c, c->declared)) return -1;
  if (c->in[0]->dtype != GC_I64 || c->in[0]->rank != 0)
    return gc_diag_set(c->d, "rand_uniform: the counter must be i64[], got %s", TS(c->in[0], b));
  if (!gc_dtype_is_float(c->declared->dtype))
    return gc_diag_set(c->d, "rand_uniform: result must be f32 or f64, got %s", TS(c->declared, b));
  *out = *c->declared;
  return 0;
}

/* ---- elementwise ---- */

static int rule_unary_numeric(rule_ctx *c, gc_type *out) {
  if (need_dtype(c, c->in[0], c->in[0]->dtype != GC_BOOL, "numeric")) return -1;
  *out = *c->in[0];
  return 0;
}

static int rule_unary_float(rule_ctx *c, gc_type *out) {
  if (need_dtype(c, c->in[0], gc_dtype_is_float(c->in[0]->dtype), "f32 or f64")) return -1;
  *out = *c->in[0];
  return 0;
}

static int rule_identity(rule_ctx *c, gc_type *out) {
  *out = *c->in[0];
  return 0;
}

static int rule_cast(rule_ctx *c, gc_type *out) {
  char b1[GC_TYPE_STR_MAX], b2[GC_TYPE_STR_MAX];
  if (!gc_shape_equal(c->in[0], c->declared))
    return gc_diag_set(c->d, "cast: operand %s and result %s must have the same shape",
                       TS(c->in[0], b1), TS(c->declared, b2));
  *out = *c->declared;
  return 0;
}

static int rule_binary_numeric(rule_ctx *c, gc_type *out) {
  if (same_types(c, 0, 1)) return -1;
  if (need_dtype(c, c->in[0], c->in[0]->dtype != GC_BOOL, "numeric")) return -1;
  *out = *c->in[0];
  return 0;
}

static int rule_binary_float(rule_ctx *c, gc_type *out) {
  if (same_types(c, 0, 1)) return -1;
  if (need_dtype(c, c->in[0], gc_dtype_is_float(c->in[0]->dtype), "f32 or f64")) return -1;
  *out = *c->in[0];
  return 0;
}

static int rule_compare_ordered(rule_ctx *c, gc_type *out) {
  if (same_types(c, 0, 1)) return -1;
  if (need_dtype(c, c->in[0], c->in[0]->dtype != GC_BOOL, "numeric")) return -1;
  *out = *c->in[0];
  out->dtype = GC_BOOL;
  return 0;
}

static int rule_compare_any(rule_ctx *c, gc_type *out) {
  if (same_types(c, 0, 1)) return -1;
  *out = *c->in[0];
  out->dtype = GC_BOOL;
  return 0;
}

static int rule_where(rule_ctx *c, gc_type *out) {
  char b1[GC_TYPE_STR_MAX], b2[GC_TYPE_STR_MAX];
  if (c->in[0]->dtype != GC_BOOL)
    return gc_diag_set(c->d, "where: the condition must be bool, got %s", TS(c->in[0], b1));
  if (same_types(c, 1, 2)) return -1;
  if (!gc_shape_equal(c->in[0], c->in[1]))
    return gc_diag_set(c->d, "where: condition %s and values %s must have the same shape",
                       TS(c->in[0], b1), TS(c->in[1], b2));
  *out = *c->in[1];
  return 0;
}

/* ---- layout ---- */

static int rule_broadcast(rule_ctx *c, gc_type *out) {
  char b1[GC_TYPE_STR_MAX], b2[GC_TYPE_STR_MAX];
  const gc_type *x = c->in[0], *t = c->declared;
  if (check_numel(c, t)) return -1;
  bool ok = x->dtype == t->dtype && x->rank <= t->rank;
  for (int i = 0; ok && i < x->rank; i++) {
    int64_t xd = x->dims[x->rank - 1 - i], td = t->dims[t->rank - 1 - i];
    ok = xd == td || xd == 1;
  }
  if (!ok)
    return gc_diag_set(c->d, "broadcast: %s cannot be broadcast to %s", TS(x, b1), TS(t, b2));
  *out = *t;
  return 0;
}

static int rule_reshape(rule_ctx *c, gc_type *out) {
  char b1[GC_TYPE_STR_MAX], b2[GC_TYPE_STR_MAX];
  if (check_numel(c, c->declared)) return -1;
  if (c->in[0]->dtype != c->declared->dtype ||
      gc_type_numel_unchecked(c->in[0]) != gc_type_numel_unchecked(c->declared))
    return gc_diag_set(c->d, "reshape: %s and %s differ in dtype or element count",
                       TS(c->in[0], b1), TS(c->declared, b2));
  *out = *c->declared;
  return 0;
}

static int rule_transpose(rule_ctx *c, gc_type *out) {
  const gc_ilist *p = &c->a->perm.perm;
  const gc_type *x = c->in[0];
  bool seen[GC_MAX_RANK] = {false};
  if (p->n != x->rank)
    return gc_diag_set(c->d, "transpose: perm has %d entries for rank %d", p->n, x->rank);
  *out = *x;
  for (int i = 0; i < p->n; i++) {
    if (p->v[i] < 0 || p->v[i] >= x->rank || seen[p->v[i]])
      return gc_diag_set(c->d, "transpose: perm is not a permutation of 0..%d", x->rank - 1);
    seen[p->v[i]] = true;
    out->dims[i] = x->dims[p->v[i]];
  }
  return 0;
}

static int rule_slice(rule_ctx *c, gc_type *out) {
  const gc_attrs_slice *s = &c->a->slice;
  const gc_type *x = c->in[0];
  if (s->start.n != x->rank || s->stop.n != x->rank || (s->step.n != 0 && s->step.n != x->rank))
    return gc_diag_set(c->d, "slice: start, stop and step need one entry per axis (rank %d)",
                       x->rank);
  *out = *x;
  for (int i = 0; i < x->rank; i++) {
    int64_t lo = s->start.v[i], hi = s->stop.v[i], st = s->step.n ? s->step.v[i] : 1;
    if (st < 1) return gc_diag_set(c->d, "slice: step %lld on axis %d is not >= 1", (long long)st, i);
    if (lo < 0 || lo > hi || hi > x->dims[i])
      return gc_diag_set(c->d, "slice: axis %d needs 0 <= start <= stop <= %lld, got %lld:%lld", i,
                         (long long)x->dims[i], (long long)lo, (long long)hi);
    out->dims[i] = (hi - lo + st - 1) / st;
  }
  return 0;
}

static int rule_concat(rule_ctx *c, gc_type *out) {
  char b1[GC_TYPE_STR_MAX], b2[GC_TYPE_STR_MAX];
  const gc_type *x = c->in[0];
  int64_t axis = c->a->axis.axis;
  if (c->n_in < 2) return gc_diag_set(c->d, "concat needs two or more operands");
  if (need_axis(c, axis, x->rank)) return -1;
  *out = *x;
  for (int k = 1; k < c->n_in; k++) {
    const gc_type *y = c->in[k];
    bool ok = y->dtype == x->dtype && y->rank == x->rank;
    for (int i = 0; ok && i < x->rank; i++) ok = i == axis || y->dims[i] == x->dims[i];
    if (!ok)
      return gc_diag_set(c->d, "concat: operand %s does not match %s except on axis %lld",
                         TS(y, b1), TS(x, b2), (long long)axis);
    out->dims[axis] += y->dims[axis];
  }
  return check_numel(c, out);
}

static int rule_pad(rule_ctx *c, gc_type *out) {
  const gc_attrs_pad *p = &c->a->pad;
  const gc_type *x = c->in[0];
  if (p->lo.n != x->rank || p->hi.n != x->rank)
    return gc_diag_set(c->d, "pad: lo and hi need one entry per axis (rank %d)", x->rank);
  *out = *x;
  for (int i = 0; i < x->rank; i++) {
    if (p->lo.v[i] < 0 || p->hi.v[i] < 0)
      return gc_diag_set(c->d, "pad: negative padding on axis %d", i);
    out->dims[i] = x->dims[i] + p->lo.v[i] + p->hi.v[i];
  }
  return check_numel(c, out);
}

/* ---- reductions ---- */

static int rule_reduce(rule_ctx *c, gc_type *out) {
  const gc_attrs_reduce *r = &c->a->reduce;
  const gc_type *x = c->in[0];
  bool mark[GC_MAX_RANK] = {false};
  if (need_dtype(c, x, x->dtype != GC_BOOL, "numeric")) return -1;
  for (int i = 0; i < r->axes.n; i++) {
    if (need_axis(c, r->axes.v[i], x->rank)) return -1;
    if (mark[r->axes.v[i]])
      return gc_diag_set(c->d, "%s: axis %lld is listed twice", OPN, (long long)r->axes.v[i]);
    mark[r->axes.v[i]] = true;
  }
  memset(out, 0, sizeof *out);
  out->dtype = x->dtype;
  for (int i = 0; i < x->rank; i++) {
    if (!mark[i]) out->dims[out->rank++] = x->dims[i];
    else if (r->keepdims) out->dims[out->rank++] = 1;
  }
  return 0;
}

static int rule_argmax(rule_ctx *c, gc_type *out) {
  const gc_type *x = c->in[0];
  int64_t axis = c->a->argmax.axis;
  if (need_dtype(c, x, x->dtype != GC_BOOL, "numeric")) return -1;
  if (need_axis(c, axis, x->rank)) return -1;
  memset(out, 0, sizeof *out);
  out->dtype = GC_I64;
  for (int i = 0; i < x->rank; i++) {
    if (i != axis) out->dims[out->rank++] = x->dims[i];
    else if (c->a->argmax.keepdims) out->dims[out->rank++] = 1;
  }
  return 0;
}

/* ---- contraction and indexing ---- */

static int rule_dot(rule_ctx *c, gc_type *out) {
  char b1[GC_TYPE_STR_MAX], b2[GC_TYPE_STR_MAX];
  const gc_type *a = c->in[0], *b = c->in[1];
  if (a->dtype != b->dtype || !gc_dtype_is_float(a->dtype))
    return gc_diag_set(c->d, "dot: operands %s and %s must both be f32 or both f64", TS(a, b1),
                       TS(b, b2));
  if (a->rank < 2 || b->rank < 2)
    return gc_diag_set(c->d, "dot: operands %s and %s must have rank >= 2", TS(a, b1), TS(b, b2));
  int64_t m = a->dims[a->rank - 2], ka = a->dims[a->rank - 1];
  int64_t kb = b->dims[b->rank - 2], n = b->dims[b->rank - 1];
  if (c->a->dot.transpose_a) { int64_t t = m; m = ka; ka = t; }
  if (c->a->dot.transpose_b) { int64_t t = kb; kb = n; n = t; }
  if (ka != kb)
    return gc_diag_set(c->d, "dot: contraction dims differ (%lld vs %lld) for %s and %s",
                       (long long)ka, (long long)kb, TS(a, b1), TS(b, b2));
  int ba = a->rank - 2, bb = b->rank - 2, nb = ba > bb ? ba : bb;
  memset(out, 0, sizeof *out);
  out->dtype = a->dtype;
  out->rank = nb + 2;
  for (int i = 0; i < nb; i++) {
    int ia = i - (nb - ba), ib = i - (nb - bb);
    int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
    if (da != db && da != 1 && db != 1)
      return gc_diag_set(c->d, "dot: batch dims of %s and %s do not broadcast", TS(a, b1), TS(b, b2));
    out->dims[i] = da == 1 ? db : da;
  }
  out->dims[nb] = m;
  out->dims[nb + 1] = n;
  return check_numel(c, out);
}

/* table[:axis] + idx + table[axis+1:] */
static int gathered_type(rule_ctx *c, const gc_type *table, const gc_type *idx, gc_type *out) {
  char b[GC_TYPE_STR_MAX];
  int64_t axis = c->a->axis.axis;
  if (idx->dtype != GC_I32 && idx->dtype != GC_I64)
    return gc_diag_set(c->d, "%s: indices must be i32 or i64, got %s", OPN, TS(idx, b));
  if (need_axis(c, axis, table->rank)) return -1;
  if (table->rank - 1 + idx->rank > GC_MAX_RANK)
    return gc_diag_set(c->d, "%s: result rank exceeds %d", OPN, GC_MAX_RANK);
  memset(out, 0, sizeof *out);
  out->dtype = table->dtype;
  for (int i = 0; i < axis; i++) out->dims[out->rank++] = table->dims[i];
  for (int i = 0; i < idx->rank; i++) out->dims[out->rank++] = idx->dims[i];
  for (int i = (int)axis + 1; i < table->rank; i++) out->dims[out->rank++] = table->dims[i];
  return check_numel(c, out);
}

static int rule_gather(rule_ctx *c, gc_type *out) {
  return gathered_type(c, c->in[0], c->in[1], out);
}

static int rule_scatter_add(rule_ctx *c, gc_type *out) {
  char b1[GC_TYPE_STR_MAX], b2[GC_TYPE_STR_MAX];
  gc_type want;
  if (check_numel(c, c->declared)) return -1;
  if (need_dtype(c, c->in[1], c->in[1]->dtype != GC_BOOL, "numeric")) return -1;
  if (gathered_type(c, c->declared, c->in[0], &want)) return -1;
  if (!gc_type_equal(&want, c->in[1]))
    return gc_diag_set(c->d, "scatter_add: source %s does not fit result %s (expected source %s)",
                       TS(c->in[1], b1), TS(c->declared, b2), gc_type_str(&want, (char[GC_TYPE_STR_MAX]){0}, GC_TYPE_STR_MAX));
  *out = *c->declared;
  return 0;
}

/* ---- collectives: the text names no world size, so the split of axis 0
 * (reduce_scatter, all_gather) is checked against the ranks at run time ---- */

static int rule_all_reduce(rule_ctx *c, gc_type *out) {
  if (need_dtype(c, c->in[0], c->in[0]->dtype != GC_BOOL, "numeric")) return -1;
  if (c->a->collective.mean && need_dtype(c, c->in[0], gc_dtype_is_float(c->in[0]->dtype), "f32 or f64 (a mean)"))
    return -1;
  *out = *c->in[0];
  return 0;
}

/* `whole` is `part` with axis 0 a multiple of part's (N ranks' parts). */
static int split_axis0(rule_ctx *c, const gc_type *whole, const gc_type *part, gc_type *out) {
  char b1[GC_TYPE_STR_MAX], b2[GC_TYPE_STR_MAX];
  if (check_numel(c, c->declared)) return -1;
  if (need_dtype(c, c->in[0], c->in[0]->dtype != GC_BOOL, "numeric")) return -1;
  bool ok = whole->dtype == part->dtype && whole->rank == part->rank && whole->rank >= 1 && part->dims[0] > 0 &&
            whole->dims[0] % part->dims[0] == 0;
  for (int i = 1; ok && i < whole->rank; i++) ok = whole->dims[i] == part->dims[i];
  if (!ok)
    return gc_diag_set(c->d, "%s: %s is not %s split along axis 0 into equal parts", OPN, TS(part, b1), TS(whole, b2));
  *out = *c->declared;
  return 0;
}

static int rule_reduce_scatter(rule_ctx *c, gc_type *out) { return split_axis0(c, c->in[0], c->declared, out); }
static int rule_all_gather(rule_ctx *c, gc_type *out) { return split_axis0(c, c->declared, c->in[0], out); }

/* call: the result type is declared; what the callee accepts is checked
 * when the name is resolved (backends/runtime/call.c). */
static int rule_call(rule_ctx *c, gc_type *out) {
  if (!c->a->call.callee || !c->a->call.callee[0]) return gc_diag_set(c->d, "call: the callee's name is missing");
  if (c->a->call.elementwise) {
    for (int i = 0; i < c->n_in; i++)
      if (!gc_shape_equal(c->in[i], c->declared)) {
        char b1[GC_TYPE_STR_MAX], b2[GC_TYPE_STR_MAX];
        return gc_diag_set(c->d, "call @%s {elementwise}: operand %d is %s, the result %s (the same shape expected)",
                           c->a->call.callee, i, TS(c->in[i], b1), TS(c->declared, b2));
      }
  }
  *out = *c->declared;
  return 0;
}

static rule_fn *const rules[GC_OP_COUNT] = {
#define GC_OP(ID, name, arity, attrs, rule) rule_##rule,
#include "ops.def"
#undef GC_OP
};

static void list_types(char *buf, size_t size, const gc_type *const *in, int n) {
  size_t k = 0;
  buf[0] = 0;
  for (int i = 0; i < n && k + 2 < size; i++) {
    char b[GC_TYPE_STR_MAX];
    k += (size_t)snprintf(buf + k, size - k, "%s%s", i ? ", " : "", gc_type_str(in[i], b, sizeof b));
  }
}

int gc_infer_type(const gc_graph *g, gc_op op, const int *in, int n_in, const gc_attrs *attrs,
                  const gc_type *declared, gc_type *out, gc_diag *d) {
  rule_ctx c;
  gc_attrs defaults;
  if ((unsigned)op >= GC_OP_COUNT) return gc_diag_set(d, "unknown op %d", (int)op);
  const gc_op_info *info = gc_op_info_of(op);
  if (info->arity >= 0 ? n_in != info->arity : info->arity == -1 && n_in < 2)
    return gc_diag_set(d, "%s takes %s%d operand%s, got %d", info->name, info->arity < 0 ? "at least " : "",
                       info->arity < 0 ? 2 : info->arity, info->arity == 1 ? "" : "s", n_in);
  if (n_in > 64) return gc_diag_set(d, "%s: more than 64 operands", info->name);
  if (!attrs) {
    gc_attrs_defaults(op, &defaults);
    attrs = &defaults;
  }
  memset(&c, 0, sizeof c);
  c.op = op;
  c.n_in = n_in;
  c.a = attrs;
  c.declared = declared;
  c.d = d;
  for (int i = 0; i < n_in; i++) {
    if (in[i] < 0 || in[i] >= g->n_nodes)
      return gc_diag_set(d, "%s: operand %d refers to an undefined value", info->name, i);
    c.in[i] = &g->nodes[in[i]]->type;
  }
  if (declared && check_numel(&c, declared)) return -1;
  if (info->declares_type && !declared) return gc_diag_set(d, "%s needs its result type written", info->name);
  if (rules[op](&c, out)) return -1;
  if (declared && !info->declares_type && !gc_type_equal(declared, out)) {
    char ops[1024], b1[GC_TYPE_STR_MAX], b2[GC_TYPE_STR_MAX];
    list_types(ops, sizeof ops, c.in, n_in);
    return gc_diag_set(d, "%s: result type %s does not follow from operands (%s); expected %s",
                       info->name, gc_type_str(declared, b1, sizeof b1), ops,
                       gc_type_str(out, b2, sizeof b2));
  }
  return 0;
}
