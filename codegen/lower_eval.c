/* The value of a node at a coordinate, as loop IR: leaves are loads from
 * buffers, constants, iota and rand_uniform are computed in place, layout
 * ops map coordinates (never copy), elementwise ops apply to their
 * operands' values at the same coordinate. */
#include "codegen/lower_internal.h"
#include "ir/view.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lw_fail(lowerer *L, const char *fmt, ...) {
  if (!L->failed) {
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gc_diag_set(L->d, "lower %s: %s", L->f->name, msg);
  }
  L->failed = true;
  return -1;
}

/* ---- index arithmetic --------------------------------------------------- */

int lw_const(lowerer *L, int64_t v) {
  for (int i = 0; i < L->n_consts; i++)
    if (L->const_vals[i] == v) return L->const_insts[i];
  if (L->n_consts == L->cap_consts) {
    L->cap_consts = L->cap_consts ? 2 * L->cap_consts : 32;
    L->const_vals = realloc(L->const_vals, sizeof *L->const_vals * (size_t)L->cap_consts);
    L->const_insts = realloc(L->const_insts, sizeof *L->const_insts * (size_t)L->cap_consts);
    if (!L->const_vals || !L->const_insts) abort();
  }
  L->const_vals[L->n_consts] = v;
  return L->const_insts[L->n_consts++] = gc_loop_index(L->f, L->blk, v);
}

/* A constant result as the canonical constant. */
static int canon(lowerer *L, int id) {
  int64_t v;
  return gc_loop_is_index_const(L->f, id, &v) ? lw_const(L, v) : id;
}

/* ---- affine forms of index values ---------------------------------------- */

static lw_affine *aff(lowerer *L, int id) {
  if (id >= L->cap_aff) {
    int cap = L->cap_aff ? L->cap_aff : 256;
    while (cap <= id) cap *= 2;
    L->aff = realloc(L->aff, sizeof *L->aff * (size_t)cap);
    L->extent = realloc(L->extent, sizeof *L->extent * (size_t)cap);
    if (!L->aff || !L->extent) abort();
    memset(L->aff + L->cap_aff, 0, sizeof *L->aff * (size_t)(cap - L->cap_aff));
    memset(L->extent + L->cap_aff, 0, sizeof *L->extent * (size_t)(cap - L->cap_aff));
    L->cap_aff = cap;
  }
  return &L->aff[id];
}

void lw_note_var(lowerer *L, int iv, int64_t extent) {
  lw_affine *a = aff(L, iv);
  *a = (lw_affine){.ok = true, .n = 1, .var = {iv}, .coef = {1}};
  L->extent[iv] = extent;
}

static lw_affine form(lowerer *L, int id) {
  int64_t v;
  if (gc_loop_is_index_const(L->f, id, &v)) return (lw_affine){.ok = true, .c = v};
  return *aff(L, id);
}

static void set_form(lowerer *L, int id, const lw_affine *a) {
  int64_t v;
  if (!gc_loop_is_index_const(L->f, id, &v)) *aff(L, id) = *a;
}

static bool add_term(lw_affine *a, int var, int64_t coef) {
  for (int i = 0; i < a->n; i++)
    if (a->var[i] == var) {
      a->coef[i] += coef;
      return true;
    }
  if (a->n == LW_TERMS) return false;
  a->var[a->n] = var;
  a->coef[a->n++] = coef;
  return true;
}

/* The instruction computing Σ coef·var + c. */
static int build(lowerer *L, const lw_affine *a) {
  int x = lw_const(L, a->c);
  for (int i = 0; i < a->n; i++)
    if (a->coef[i]) x = lw_add(L, x, lw_mul(L, a->var[i], lw_const(L, a->coef[i])));
  return x;
}

int lw_add(lowerer *L, int a, int b) {
  lw_affine x = form(L, a), y = form(L, b), z = x;
  int id = canon(L, gc_loop_iadd(L->f, L->blk, a, b));
  z.ok = x.ok && y.ok;
  z.c += y.c;
  for (int i = 0; z.ok && i < y.n; i++) z.ok = add_term(&z, y.var[i], y.coef[i]);
  if (z.ok) set_form(L, id, &z);
  return id;
}

int lw_mul(lowerer *L, int a, int b) {
  lw_affine x = form(L, a), y = form(L, b);
  int id = canon(L, gc_loop_imul(L->f, L->blk, a, b));
  if (x.ok && y.ok && (x.n == 0 || y.n == 0)) {
    lw_affine z = x.n == 0 ? y : x;
    int64_t k = x.n == 0 ? x.c : y.c;
    z.c *= k;
    for (int i = 0; i < z.n; i++) z.coef[i] *= k;
    set_form(L, id, &z);
  }
  return id;
}

/* a = g·X + r with 0 <= r < g for the largest g dividing d that allows it
 * (every coefficient and the constant split into a multiple of g and a
 * small part whose range stays below g).  False when there is none > 1. */
static bool split(lowerer *L, const lw_affine *a, int64_t d, int64_t *g_out, lw_affine *X, lw_affine *r) {
  if (!a->ok || a->c < 0) return false;
  for (int i = 0; i < a->n; i++)
    if (a->coef[i] < 0 || L->extent[a->var[i]] <= 0) return false;
  int64_t best = 1;
  for (int cand = -1; cand < a->n; cand++) {
    int64_t g = cand < 0 ? d : a->coef[cand];
    if (g <= best || d % g) continue;
    int64_t rmax = a->c % g;
    for (int i = 0; i < a->n; i++)
      if (a->coef[i] % g) rmax += a->coef[i] * (L->extent[a->var[i]] - 1);
    if (rmax < g) best = g;
  }
  if (best == 1) return false;
  *X = (lw_affine){.ok = true, .c = a->c / best};
  *r = (lw_affine){.ok = true, .c = a->c % best};
  for (int i = 0; i < a->n; i++) {
    if (a->coef[i] % best) add_term(r, a->var[i], a->coef[i]);
    else add_term(X, a->var[i], a->coef[i] / best);
  }
  *g_out = best;
  return true;
}

/* The largest value an affine form takes (every variable's range known,
 * coefficients and constant >= 0), or -1. */
static int64_t max_of(lowerer *L, const lw_affine *a) {
  if (!a->ok || a->c < 0) return -1;
  int64_t m = a->c;
  for (int i = 0; i < a->n; i++) {
    if (a->coef[i] < 0 || L->extent[a->var[i]] <= 0) return -1;
    m += a->coef[i] * (L->extent[a->var[i]] - 1);
  }
  return m;
}

int lw_div(lowerer *L, int a, int64_t c) {
  lw_affine fa = form(L, a), X, r;
  int64_t g;
  if (c > 1 && split(L, &fa, c, &g, &X, &r)) {   /* (gX + r)/c = X/(c/g) */
    int x = build(L, &X);
    return g == c ? x : lw_div(L, x, c / g);
  }
  int id = canon(L, gc_loop_idiv(L->f, L->blk, a, c));
  int64_t m = max_of(L, &fa), v;
  if (id != a && m >= 0 && !gc_loop_is_index_const(L->f, id, &v)) lw_note_var(L, id, m / c + 1);   /* in [0, m/c] */
  return id;
}

int lw_mod(lowerer *L, int a, int64_t c) {
  lw_affine fa = form(L, a), X, r;
  int64_t g, v;
  if (c > 1 && split(L, &fa, c, &g, &X, &r)) {   /* (gX + r) % c = (X % (c/g))·g + r */
    int rest = build(L, &r);
    if (g == c) return rest;
    return lw_add(L, lw_mul(L, lw_mod(L, build(L, &X), c / g), lw_const(L, g)), rest);
  }
  int id = canon(L, gc_loop_imod(L->f, L->blk, a, c));
  if (id != a && max_of(L, &fa) >= 0 && !gc_loop_is_index_const(L->f, id, &v)) lw_note_var(L, id, c);   /* in [0, c) */
  return id;
}

int lw_linear(lowerer *L, const int *c, const int64_t *strides, int rank) {
  int x = lw_const(L, 0);
  for (int i = 0; i < rank; i++)
    if (strides[i]) x = lw_add(L, x, lw_mul(L, c[i], lw_const(L, strides[i])));
  return x;
}

/* The dims other than 1, in order. */
static int squeeze(const gc_type *t, int *axes) {
  int n = 0;
  for (int i = 0; i < t->rank; i++)
    if (t->dims[i] != 1) axes[n++] = i;
  return n;
}

void lw_recoord(lowerer *L, const gc_type *from, const int *c, const gc_type *to, int *out) {
  int fa[GC_MAX_RANK], ta[GC_MAX_RANK];
  int nf = squeeze(from, fa), nt = squeeze(to, ta);
  bool same = nf == nt;
  for (int i = 0; same && i < nf; i++) same = from->dims[fa[i]] == to->dims[ta[i]];
  for (int i = 0; i < to->rank; i++) out[i] = lw_const(L, 0);
  if (same) {
    for (int i = 0; i < nt; i++) out[ta[i]] = c[fa[i]];
    return;
  }
  int64_t fs[GC_MAX_RANK], ts[GC_MAX_RANK];
  gc_row_major_strides(from, fs);
  gc_row_major_strides(to, ts);
  int linear = lw_linear(L, c, fs, from->rank);
  for (int i = 0; i < to->rank; i++) {
    if (to->dims[i] == 1) continue;
    int x = lw_div(L, linear, ts[i]);
    out[i] = i == 0 ? x : lw_mod(L, x, to->dims[i]);
  }
}

/* ---- memo ---------------------------------------------------------------- */

/* The memo is a stack (entries made deeper are dropped when a loop
 * closes) threaded through hash buckets: each entry links to the older one
 * in its bucket, so the newest entry for a key is found first, as a scan
 * from the top would, in O(1). */
static unsigned memo_hash(int id, const int *c, int rank) {
  uint64_t h = 1469598103934665603ull ^ (uint64_t)(unsigned)id;
  h *= 1099511628211ull;
  for (int i = 0; i < rank; i++) h = (h ^ (uint64_t)(unsigned)c[i]) * 1099511628211ull;
  return (unsigned)(h ^ (h >> 32));
}

static int memo_find(const lowerer *L, int id, const int *c, int rank) {
  if (!L->n_buckets) return -1;
  for (int i = L->bucket[memo_hash(id, c, rank) & (unsigned)(L->n_buckets - 1)]; i >= 0; i = L->memo[i].older) {
    const lw_memo *m = &L->memo[i];
    if (m->node == id && m->rank == rank && (rank == 0 || memcmp(m->coords, c, sizeof(int) * (size_t)rank) == 0))
      return m->inst;
  }
  return -1;
}

/* Links entry i into its bucket, over the older entries there. */
static void memo_link(lowerer *L, int i) {
  unsigned b = L->memo[i].hash & (unsigned)(L->n_buckets - 1);
  L->memo[i].older = L->bucket[b];
  L->bucket[b] = i;
}

void lw_memo_put(lowerer *L, int id, const int *c, int inst) {
  if (L->n_memo == L->cap_memo) {
    L->cap_memo = L->cap_memo ? 2 * L->cap_memo : 64;
    L->memo = realloc(L->memo, sizeof *L->memo * (size_t)L->cap_memo);
    if (!L->memo) abort();
  }
  if (2 * (L->n_memo + 1) > L->n_buckets) {   /* rehash, oldest first */
    L->n_buckets = L->n_buckets ? 2 * L->n_buckets : 128;
    L->bucket = realloc(L->bucket, sizeof *L->bucket * (size_t)L->n_buckets);
    if (!L->bucket) abort();
    for (int b = 0; b < L->n_buckets; b++) L->bucket[b] = -1;
    for (int i = 0; i < L->n_memo; i++) memo_link(L, i);
  }
  lw_memo *m = &L->memo[L->n_memo];
  m->node = id;
  m->rank = L->g->nodes[id]->type.rank;
  m->depth = L->depth;
  if (m->rank) memcpy(m->coords, c, sizeof(int) * (size_t)m->rank);
  m->inst = inst;
  m->hash = memo_hash(id, c, m->rank);
  memo_link(L, L->n_memo++);
}

void lw_memo_pop(lowerer *L) {
  while (L->n_memo > 0 && L->memo[L->n_memo - 1].depth > L->depth) {
    const lw_memo *m = &L->memo[--L->n_memo];
    L->bucket[m->hash & (unsigned)(L->n_buckets - 1)] = m->older;
  }
}

/* ---- buffers ------------------------------------------------------------- */

void lw_reserve_buffer_nodes(lowerer *L, int n) {
  if (n <= L->cap_buffer_nodes) return;
  int cap = L->cap_buffer_nodes ? 2 * L->cap_buffer_nodes : 16;
  while (cap < n) cap *= 2;
  L->buffer_nodes = realloc(L->buffer_nodes, sizeof *L->buffer_nodes * (size_t)cap);
  if (!L->buffer_nodes) abort();
  for (int i = L->cap_buffer_nodes; i < cap; i++) L->buffer_nodes[i] = -1;   /* a local buffer's */
  L->cap_buffer_nodes = cap;
}

int lw_buffer(lowerer *L, int id, bool written) {
  if (L->buffer[id] >= 0) {
    if (written) L->f->buffers[L->buffer[id]].written = true;
    return L->buffer[id];
  }
  const gc_node *n = L->g->nodes[id];
  char name[64];
  if (gc_op_is_fed(n->op)) snprintf(name, sizeof name, "%s", n->attrs.name.name);
  else snprintf(name, sizeof name, "%%%d", id);
  int b = gc_loop_add_buffer(L->f, name, n->type.dtype, gc_type_numel_unchecked(&n->type), written);
  L->buffer[id] = b;
  lw_reserve_buffer_nodes(L, b + 1);
  L->buffer_nodes[b] = id;
  return b;
}

/* ---- values -------------------------------------------------------------- */

static int op(lowerer *L, gc_op o, gc_dtype dt, const int *in, int n) { return gc_loop_op(L->f, L->blk, o, dt, in, n); }

static int load(lowerer *L, int id, const int *c) {
  const gc_type *t = &L->g->nodes[id]->type;
  int64_t s[GC_MAX_RANK];
  gc_row_major_strides(t, s);
  return gc_loop_load(L->f, L->blk, lw_buffer(L, id, false), lw_linear(L, c, s, t->rank));
}

/* Every axis k with a[k] <= c[k] < b[k]: a bool value (or -1: always). */
static int in_range(lowerer *L, int c, int64_t lo, int64_t hi, int all) {
  int ge = op(L, GC_OP_LE, GC_BOOL, (int[]){lw_const(L, lo), c}, 2);
  int lt = op(L, GC_OP_LT, GC_BOOL, (int[]){c, lw_const(L, hi)}, 2);
  int both = op(L, GC_OP_WHERE, GC_BOOL, (int[]){ge, lt, gc_loop_const(L->f, L->blk, GC_BOOL, 0)}, 3);
  if (all < 0) return both;
  return op(L, GC_OP_WHERE, GC_BOOL, (int[]){all, both, gc_loop_const(L->f, L->blk, GC_BOOL, 0)}, 3);
}

static int clamp(lowerer *L, int c, int64_t hi) {
  int x = op(L, GC_OP_MAX, GC_I64, (int[]){c, lw_const(L, 0)}, 2);
  x = op(L, GC_OP_MIN, GC_I64, (int[]){x, lw_const(L, hi - 1)}, 2);
  lw_note_var(L, x, hi);   /* in [0, hi) */
  return x;
}

/* ---- the evaluator: an explicit stack of frames, one per node being
 * computed, so that a chain of any length needs no recursion.  Each op is
 * a start (what comes before reading its first operand) and a resume per
 * operand read; the instructions come out in the order a recursive
 * evaluation would emit them. */

enum { PENDING = -2 };

/* Push a frame computing node id at coordinates c (NULL for a scalar). */
static void push(lowerer *L, int id, const int *c) {
  if (L->n_frames == L->cap_frames) {
    L->cap_frames = L->cap_frames ? 2 * L->cap_frames : 64;
    L->frames = realloc(L->frames, sizeof *L->frames * (size_t)L->cap_frames);
    if (!L->frames) abort();
  }
  lw_frame *fr = &L->frames[L->n_frames++];
  int rank = L->g->nodes[id]->type.rank;
  *fr = (lw_frame){.id = id, .valid = -1, .v = -1};
  if (rank && c) memcpy(fr->c, c, sizeof(int) * (size_t)rank);
}

/* The frame's node reads operand k of its own at coordinates oc: pushed. */
static int read_operand(lowerer *L, lw_frame *fr, int k, const int *oc) {
  int id = L->g->nodes[fr->id]->in[k], c[GC_MAX_RANK], rank = L->g->nodes[id]->type.rank;
  fr->k = k;
  if (oc && rank) memcpy(c, oc, sizeof(int) * (size_t)rank);   /* oc may lie in the stack, which push may move */
  push(L, id, oc ? c : NULL);   /* fr moves too: not used after this */
  return PENDING;
}

static int pad_start(lowerer *L, lw_frame *fr, const gc_node *n) {
  const gc_type *in = &L->g->nodes[n->in[0]]->type;
  const gc_attrs_pad *p = &n->attrs.pad;
  const int *c = fr->c;
  int oc[GC_MAX_RANK] = {0}, valid = -1;
  for (int k = 0; k < in->rank; k++) {
    oc[k] = lw_add(L, c[k], lw_const(L, -p->lo.v[k]));
    if (p->lo.v[k] == 0 && p->hi.v[k] >= 0 && in->dims[k] == n->type.dims[k]) continue;
    valid = in_range(L, oc[k], 0, in->dims[k], valid);
    oc[k] = clamp(L, oc[k], in->dims[k] ? in->dims[k] : 1);
  }
  fr->valid = valid;
  return read_operand(L, fr, 0, oc);
}

static int pad_resume(lowerer *L, lw_frame *fr, const gc_node *n, int v) {
  if (fr->valid < 0) return v;
  int fill = gc_loop_const(L->f, L->blk, n->type.dtype, n->attrs.pad.value);
  return op(L, GC_OP_WHERE, n->type.dtype, (int[]){fr->valid, v, fill}, 3);
}

/* Concat: operand k from k (skipping empty ones); its value x, if any, was
 * just read (x < 0: none yet). */
static int concat_step(lowerer *L, lw_frame *fr, const gc_node *n, int k, int x) {
  int axis = (int)n->attrs.axis.axis;
  if (x >= 0) {
    if (fr->v < 0) {
      fr->v = x;
    } else {   /* c[axis] >= offset picks this operand over the earlier ones */
      int here = op(L, GC_OP_LE, GC_BOOL, (int[]){lw_const(L, fr->offset), fr->c[axis]}, 2);
      fr->v = op(L, GC_OP_WHERE, n->type.dtype, (int[]){here, x, fr->v}, 3);
    }
    fr->offset += L->g->nodes[n->in[k - 1]]->type.dims[axis];
  }
  for (; k < n->n_in; k++) {
    const gc_type *t = &L->g->nodes[n->in[k]]->type;
    int64_t len = t->dims[axis];
    if (len == 0) continue;
    int oc[GC_MAX_RANK];
    memcpy(oc, fr->c, sizeof(int) * (size_t)t->rank);
    oc[axis] = clamp(L, lw_add(L, fr->c[axis], lw_const(L, -fr->offset)), len);
    return read_operand(L, fr, k, oc);
  }
  return fr->v;
}

/* Start computing the frame's node: its value, or PENDING when it pushed
 * the operand it reads first. */
static int start(lowerer *L, lw_frame *fr) {
  const gc_graph *g = L->g;
  const gc_node *n = g->nodes[fr->id];
  const gc_type *t = &n->type;
  const int *c = fr->c;
  int oc[GC_MAX_RANK];
  switch (n->op) {
  case GC_OP_CONST: return gc_loop_const(L->f, L->blk, t->dtype, n->attrs.value.value);
  case GC_OP_IOTA: {
    int x = c[n->attrs.axis.axis];
    return t->dtype == GC_I64 ? x : op(L, GC_OP_CAST, t->dtype, &x, 1);
  }
  case GC_OP_RAND_UNIFORM: return read_operand(L, fr, 0, NULL);
  case GC_OP_STOP_GRADIENT: return read_operand(L, fr, 0, c);
  case GC_OP_BROADCAST: {
    const gc_type *in = &g->nodes[n->in[0]]->type;
    int shift = t->rank - in->rank;
    for (int k = 0; k < in->rank; k++) oc[k] = in->dims[k] == 1 ? lw_const(L, 0) : c[k + shift];
    return read_operand(L, fr, 0, oc);
  }
  case GC_OP_TRANSPOSE:
    for (int k = 0; k < t->rank; k++) oc[n->attrs.perm.perm.v[k]] = c[k];
    return read_operand(L, fr, 0, oc);
  case GC_OP_SLICE: {
    const gc_attrs_slice *s = &n->attrs.slice;
    for (int k = 0; k < t->rank; k++) {
      int64_t step = s->step.n ? s->step.v[k] : 1;
      oc[k] = lw_add(L, lw_const(L, s->start.v[k]), lw_mul(L, c[k], lw_const(L, step)));
    }
    return read_operand(L, fr, 0, oc);
  }
  case GC_OP_RESHAPE:
    lw_recoord(L, t, c, &g->nodes[n->in[0]]->type, oc);
    return read_operand(L, fr, 0, oc);
  case GC_OP_PAD: return pad_start(L, fr, n);
  case GC_OP_CONCAT: return concat_step(L, fr, n, 0, -1);
  default: break;
  }
  if (gc_op_kind(n->op) == GC_KIND_REDUCE) {
    /* its loops are emitted here, and their body read through lw_eval
     * again: one level of C recursion per reduction nested in another's
     * operand, which loop nesting bounds */
    if (L->depth > LW_MAX_DEPTH) return lw_fail(L, "loops nested more than %d deep", LW_MAX_DEPTH);
    int rc[GC_MAX_RANK], r = fr->id;
    memcpy(rc, c, sizeof rc);   /* the stack may move under lw_reduce_at */
    return lw_reduce_at(L, r, rc);
  }
  if (gc_op_kind(n->op) == GC_KIND_ELEMENTWISE) {
    if (n->n_in > 3) return lw_fail(L, "%s %%%d has %d operands", gc_op_name(n->op), fr->id, n->n_in);
    return read_operand(L, fr, 0, c);
  }
  return lw_fail(L, "%s %%%d%s%s%s cannot be computed at a coordinate here", gc_op_name(n->op), fr->id,
                 n->label ? " (\"" : "", n->label ? n->label : "", n->label ? "\")" : "");
}

/* Resume the frame's node with x, the value of the operand it read last:
 * its value, or PENDING when it pushed the next operand. */
static int resume(lowerer *L, lw_frame *fr, int x) {
  const gc_node *n = L->g->nodes[fr->id];
  const gc_type *t = &n->type;
  switch (n->op) {
  case GC_OP_RAND_UNIFORM: {
    int64_t s[GC_MAX_RANK];
    gc_row_major_strides(t, s);
    return gc_loop_rand(L->f, L->blk, t->dtype, n->attrs.seed.seed, x, lw_linear(L, fr->c, s, t->rank));
  }
  case GC_OP_PAD: return pad_resume(L, fr, n, x);
  case GC_OP_CONCAT: return concat_step(L, fr, n, fr->k + 1, x);
  default: break;
  }
  if (gc_op_is_view(n->op)) return x;   /* its operand's value at the mapped coordinates */
  fr->in[fr->k] = x;   /* elementwise */
  if (fr->k + 1 < n->n_in) return read_operand(L, fr, fr->k + 1, fr->c);
  return op(L, n->op, t->dtype, fr->in, n->n_in);
}

int lw_eval(lowerer *L, int id, const int *c) {
  int base = L->n_frames, v = -1;
  push(L, id, c);
  while (L->n_frames > base) {
    if (L->failed) {
      L->n_frames = base;
      return lw_const(L, 0);
    }
    lw_frame *fr = &L->frames[L->n_frames - 1];
    const gc_node *n = L->g->nodes[fr->id];
    if (!fr->started) {
      fr->started = true;
      v = memo_find(L, fr->id, fr->c, n->type.rank);
      if (v >= 0) {   /* known: no new memo entry */
        L->n_frames--;
        continue;
      }
      v = L->inside[fr->id] || gc_op_is_generated(n->op) ? start(L, fr) : load(L, fr->id, fr->c);
    } else {
      v = resume(L, fr, v);
    }
    if (v == PENDING || L->failed) continue;
    fr = &L->frames[L->n_frames - 1];   /* start and resume may grow the stack: re-read */
    lw_memo_put(L, fr->id, fr->c, v);
    L->n_frames--;
  }
  return v;
}
