/* The builder's core: lifetime, errors, scopes, sources and results.
 * Elementwise, layout, reduction and matmul calls are in builder_ops.c. */
#include "frontend/builder_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- lifetime ---------------------------------------------------------- */

gc_builder *gc_builder_wrap(gc_graph *g, gc_dtype float_dtype) {
  if (!g) return NULL;
  gc_builder *b = calloc(1, sizeof *b);
  if (!b) return NULL;
  b->g = g;
  gc_emitter_init(&b->em, g, &b->em_diag);
  b->fdt = float_dtype;
  b->init_std = 0.02;
  if (!gc_dtype_is_float(float_dtype))
    gc_builder_fail(b, "builder: the float dtype must be f32 or f64, got %s",
                    (unsigned)float_dtype < GC_DTYPE_COUNT ? gc_dtype_name(float_dtype) : "?");
  return b;
}

gc_builder *gc_builder_new(const char *graph_name, gc_dtype float_dtype) {
  gc_graph *g = gc_graph_new(graph_name);
  gc_builder *b = gc_builder_wrap(g, float_dtype);
  if (!b) gc_graph_free(g);
  return b;
}

static void release(gc_builder *b) {
  for (int i = 0; i < b->inits.n; i++) free(b->inits.names[i]);
  free(b->inits.names);
  free(b->inits.rules);
  free(b);
}

void gc_builder_free(gc_builder *b) {
  if (!b) return;
  gc_graph_free(b->g);
  release(b);
}

gc_graph *gc_builder_finish(gc_builder *b, gc_diag *d) {
  if (!b) {
    gc_diag_set(d, "builder: out of memory");
    return NULL;
  }
  gc_graph *g = b->g;
  if (!b->failed && gc_verify(g, d) != 0) {
    release(b);
    gc_graph_free(g);
    return NULL;
  }
  if (b->failed) {
    gc_diag_set(d, "%s", b->err);
    gc_graph_free(g);
    g = NULL;
  }
  release(b);
  return g;
}

gc_init_table *gc_builder_take_inits(gc_builder *b) {
  gc_init_table *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  if (b) {
    *t = b->inits;
    memset(&b->inits, 0, sizeof b->inits);
  }
  return t;
}

gc_graph *gc_builder_graph(gc_builder *b) { return b->g; }
gc_dtype gc_builder_dtype(const gc_builder *b) { return b->fdt; }
const char *gc_builder_error(const gc_builder *b) { return b->failed ? b->err : NULL; }
void gc_builder_set_init_std(gc_builder *b, double std) { b->init_std = std; }
double gc_builder_init_std(const gc_builder *b) { return b->init_std; }
bool gc_builder_training(const gc_builder *b) { return b->training; }

void gc_builder_set_training(gc_builder *b, bool training, gc_val counter, uint64_t seed) {
  b->training = training;
  b->train_counter = counter;
  b->train_seed = seed;
}

/* ---- errors ------------------------------------------------------------ */

static void vfail(gc_builder *b, const char *fmt, va_list ap) {
  if (b->failed) return;
  b->failed = true;
  b->em.failed = true;
  vsnprintf(b->err, sizeof b->err, fmt, ap);
}

void gc_builder_fail(gc_builder *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfail(b, fmt, ap);
  va_end(ap);
}

/* `op at "scope"` or just `op` at top level. */
static void where_prefix(const gc_builder *b, const char *op, char *buf, size_t size) {
  if (b->scope[0]) snprintf(buf, size, "%s at \"%s\"", op, b->scope);
  else snprintf(buf, size, "%s", op);
}

void gc_b_fail(gc_builder *b, const char *op, int n, const gc_val *xs, const char *fmt, ...) {
  if (b->failed) return;
  char head[GC_SCOPE_MAX + 64], shapes[4 * GC_TYPE_STR_MAX + 32] = "", detail[512];
  where_prefix(b, op, head, sizeof head);
  size_t k = 0;
  for (int i = 0; i < n && i < 4; i++) {
    char t[GC_TYPE_STR_MAX];
    gc_type ty = gc_type_of(b, xs[i]);
    k += (size_t)snprintf(shapes + k, sizeof shapes - k, "%s%s", i == 0 ? (n == 1 ? "shape " : "shapes ") : (i == n - 1 ? " and " : ", "),
                          gc_type_str(&ty, t, sizeof t));
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  gc_builder_fail(b, "%s: %s%s%s", head, shapes, n ? " " : "", detail);
}

bool gc_b_skip(gc_builder *b, const char *op, int n, const gc_val *xs) {
  if (b->failed) return true;
  for (int i = 0; i < n; i++) {
    if (xs[i].ref <= 0 || xs[i].ref > b->g->n_nodes) {
      char head[GC_SCOPE_MAX + 64];
      where_prefix(b, op, head, sizeof head);
      gc_builder_fail(b, "%s: operand %d is not a value of this graph", head, i + 1);
      return true;
    }
  }
  return false;
}

/* ---- emitting nodes ---------------------------------------------------- */

static const char *current_label(gc_builder *b) {
  if (!b->scope[0]) return NULL;
  if (!b->label) b->label = gc_arena_strdup(b->g->arena, b->scope);
  return b->label;
}

gc_val gc_b_emit(gc_builder *b, const char *op, gc_op ir, int n, const gc_val *in,
                 const gc_attrs *attrs, const gc_type *declared) {
  int ids[64] = {0};
  if (gc_b_skip(b, op, n, in)) return GC_NONE;
  if (n > 64) {
    gc_b_fail(b, op, 0, NULL, "more than 64 operands");
    return GC_NONE;
  }
  for (int i = 0; i < n; i++) ids[i] = gc_val_node(in[i]);
  int id = gc_emit(&b->em, ir, ids, n, attrs, declared);
  if (id < 0) {
    char head[GC_SCOPE_MAX + 64];
    where_prefix(b, op, head, sizeof head);
    gc_builder_fail(b, "%s: %s", head, b->em_diag.msg);
    return GC_NONE;
  }
  b->g->nodes[id]->label = current_label(b);
  return gc_val_of(id);
}

/* ---- scopes ------------------------------------------------------------ */

void gc_push(gc_builder *b, const char *fmt, ...) {
  char part[GC_SCOPE_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(part, sizeof part, fmt, ap);
  va_end(ap);
  size_t len = strlen(b->scope);
  if (b->depth >= GC_SCOPE_DEPTH || len + strlen(part) + 2 > GC_SCOPE_MAX) {
    gc_builder_fail(b, "scope \"%s\": nested too deep or too long to add \"%s\"", b->scope, part);
    b->depth++;   /* keep push/pop balanced */
    return;
  }
  b->scope_len[b->depth++] = (int)len;
  snprintf(b->scope + len, sizeof b->scope - len, "%s%s", len ? "." : "", part);
  b->label = NULL;
}

void gc_pop(gc_builder *b) {
  if (b->depth <= 0) {
    gc_builder_fail(b, "scope: gc_pop without a matching gc_push");
    return;
  }
  b->depth--;
  if (b->depth < GC_SCOPE_DEPTH) b->scope[b->scope_len[b->depth]] = 0;
  b->label = NULL;
}

const char *gc_scope(const gc_builder *b) { return b->scope; }

/* "<scope>.<name>" into buf. */
static void scoped(const gc_builder *b, const char *name, char *buf, size_t size) {
  snprintf(buf, size, "%s%s%s", b->scope, b->scope[0] ? "." : "", name);
}

gc_val gc_label(gc_builder *b, gc_val v, const char *name) {
  if (gc_b_skip(b, "label", 1, &v)) return GC_NONE;
  char full[GC_SCOPE_MAX + 256];
  scoped(b, name, full, sizeof full);
  gc_graph_set_label(b->g, gc_val_node(v), full);
  return v;
}

/* ---- inspecting -------------------------------------------------------- */

gc_type gc_type_of(const gc_builder *b, gc_val v) {
  if (v.ref <= 0 || v.ref > b->g->n_nodes) return gc_type_make(GC_F32, 0, NULL);
  return gc_b_node(b, v)->type;
}

int gc_rank(const gc_builder *b, gc_val v) { return gc_type_of(b, v).rank; }

int64_t gc_dim(const gc_builder *b, gc_val v, int axis) {
  gc_type t = gc_type_of(b, v);
  int a = gc_b_axis(axis, t.rank);
  return a < 0 ? -1 : t.dims[a];
}

/* ---- sources ----------------------------------------------------------- */

static bool dims_ok(gc_builder *b, const char *op, const char *name, int rank, const int64_t *dims) {
  if (rank < 0 || rank > GC_MAX_RANK || (rank > 0 && !dims)) {
    gc_b_fail(b, op, 0, NULL, "\"%s\": rank %d is outside 0..%d", name, rank, GC_MAX_RANK);
    return false;
  }
  for (int i = 0; i < rank; i++)
    if (dims[i] < 0) {
      gc_b_fail(b, op, 0, NULL, "\"%s\": dim %d is negative (%lld)", name, i, (long long)dims[i]);
      return false;
    }
  return true;
}

/* An input or param: the existing node of that name if any (types must
 * agree), else a new one. */
static gc_val source(gc_builder *b, const char *op, gc_op ir, const char *name, gc_dtype dt,
                     int rank, const int64_t *dims) {
  if (b->failed) return GC_NONE;
  if (!name || !name[0]) {
    gc_b_fail(b, op, 0, NULL, "needs a non-empty name");
    return GC_NONE;
  }
  if (!dims_ok(b, op, name, rank, dims)) return GC_NONE;
  gc_type t = gc_type_make(gc_b_dtype(b, dt), rank, dims);
  int id = ir == GC_OP_PARAM ? gc_graph_find_param(b->g, name) : gc_graph_find_input(b->g, name);
  if (id >= 0) {
    if (!gc_type_equal(&t, &b->g->nodes[id]->type)) {
      char t1[GC_TYPE_STR_MAX], t2[GC_TYPE_STR_MAX];
      gc_b_fail(b, op, 0, NULL, "\"%s\" asked for as %s but it exists as %s", name,
                gc_type_str(&t, t1, sizeof t1), gc_type_str(&b->g->nodes[id]->type, t2, sizeof t2));
      return GC_NONE;
    }
    return gc_val_of(id);
  }
  gc_attrs a = {.name = {.name = name}};
  return gc_b_emit(b, op, ir, 0, NULL, &a, &t);
}

gc_val gc_input(gc_builder *b, const char *name, gc_dtype dt, int rank, const int64_t *dims) {
  return source(b, "input", GC_OP_INPUT, name, dt, rank, dims);
}

gc_val gc_param_full(gc_builder *b, const char *full_name, gc_dtype dt, int rank,
                     const int64_t *dims, gc_init init) {
  bool existed = full_name && gc_graph_find_param(b->g, full_name) >= 0;
  gc_val v = source(b, "param", GC_OP_PARAM, full_name, dt, rank, dims);
  if (!gc_is_none(v) && !existed) gc_init_table_set(&b->inits, full_name, init);
  return v;
}

gc_val gc_param(gc_builder *b, const char *name, int rank, const int64_t *dims, gc_init init) {
  char full[GC_SCOPE_MAX + 256];
  scoped(b, name ? name : "", full, sizeof full);
  return gc_param_full(b, full, b->fdt, rank, dims, init);
}

gc_val gc_find_param(gc_builder *b, const char *full_name) {
  int id = full_name ? gc_graph_find_param(b->g, full_name) : -1;
  return id < 0 ? GC_NONE : gc_val_of(id);
}

void gc_set_init(gc_builder *b, const char *name, gc_init init) {
  char full[GC_SCOPE_MAX + 256];
  scoped(b, name, full, sizeof full);
  if (b->failed) return;
  if (gc_graph_find_param(b->g, full) < 0) {
    gc_b_fail(b, "set_init", 0, NULL, "there is no param \"%s\"", full);
    return;
  }
  gc_init_table_set(&b->inits, full, init);
}

gc_val gc_const(gc_builder *b, double value, gc_dtype dt, int rank, const int64_t *dims) {
  if (b->failed || !dims_ok(b, "const", "", rank, dims)) return GC_NONE;
  gc_type t = gc_type_make(gc_b_dtype(b, dt), rank, dims);
  gc_attrs a = {.value = {.value = value}};
  return gc_b_emit(b, "const", GC_OP_CONST, 0, NULL, &a, &t);
}

gc_val gc_constf(gc_builder *b, double value) { return gc_const(b, value, b->fdt, 0, NULL); }

gc_val gc_const_like(gc_builder *b, gc_val x, double value) {
  if (gc_b_skip(b, "const_like", 1, &x)) return GC_NONE;
  gc_type t = gc_b_node(b, x)->type;
  return gc_const(b, value, t.dtype, t.rank, t.dims);
}

gc_val gc_iota(gc_builder *b, gc_dtype dt, int rank, const int64_t *dims, int axis) {
  if (b->failed || !dims_ok(b, "iota", "", rank, dims)) return GC_NONE;
  int ax = gc_b_axis(axis, rank);
  gc_type t = gc_type_make(gc_b_dtype(b, dt), rank, dims);
  if (ax < 0) {
    char s[GC_TYPE_STR_MAX];
    gc_b_fail(b, "iota", 0, NULL, "axis %d is out of range for %s", axis, gc_type_str(&t, s, sizeof s));
    return GC_NONE;
  }
  gc_attrs a = {.axis = {.axis = ax}};
  return gc_b_emit(b, "iota", GC_OP_IOTA, 0, NULL, &a, &t);
}

gc_val gc_arange(gc_builder *b, int64_t n, gc_dtype dt) { return gc_iota(b, dt, 1, &n, 0); }

gc_val gc_rand_uniform(gc_builder *b, gc_val counter, uint64_t seed, gc_dtype dt, int rank,
                       const int64_t *dims) {
  if (gc_b_skip(b, "rand_uniform", 1, &counter) || !dims_ok(b, "rand_uniform", "", rank, dims))
    return GC_NONE;
  gc_type t = gc_type_make(gc_b_dtype(b, dt), rank, dims);
  gc_attrs a = {.seed = {.seed = (int64_t)seed}};
  return gc_b_emit(b, "rand_uniform", GC_OP_RAND_UNIFORM, 1, &counter, &a, &t);
}

/* ---- results ----------------------------------------------------------- */

void gc_output(gc_builder *b, const char *name, gc_val v) {
  gc_diag d;
  if (gc_b_skip(b, "output", 1, &v)) return;
  if (gc_graph_add_output(b->g, name, gc_val_node(v), &d)) gc_b_fail(b, "output", 1, &v, "%s", d.msg);
}

void gc_update(gc_builder *b, const char *full_param_name, gc_val v) {
  gc_diag d;
  if (gc_b_skip(b, "update", 1, &v)) return;
  if (gc_graph_add_update(b->g, full_param_name, gc_val_node(v), &d))
    gc_b_fail(b, "update", 1, &v, "%s", d.msg);
}
