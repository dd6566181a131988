/* Helpers shared by the op suites: build a graph node by node with
 * gc_graph_add, feed inputs, and check nodes' types and values against ones
 * worked out by hand.  The checks run on the backend under test
 * (tests/backend_param.h): expect_node records a node and its expected
 * values; tg_check (called by tg_free) compiles the graph ONCE with every
 * recorded node as an output, runs it, and compares.  On another backend
 * than interp an inexact expectation is widened to gc_test_tol's bound
 * (f64 1e-12, f32 1e-5); an exact one (tol 0) stays exact.  Header only;
 * each suite includes it once. */
#ifndef GC_INTERP_TEST_H
#define GC_INTERP_TEST_H

#include "tests/testutil.h"
#include "tests/backend_param.h"
#include "backends/interp/interp.h"

#include <stdlib.h>
#include <string.h>

/* A node whose value is checked when the graph runs. */
typedef struct {
  int id;
  char type[GC_TYPE_STR_MAX];
  double *want;
  double tol;
} tg_expect;

typedef struct {
  gc_graph *g;
  gc_tensor_map params, inputs;
  gc_diag d;
  tg_expect *expect;
  int n_expect;
} tg;

#define N_ARGS(...) ((int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)))
/* TY(GC_F32, 2, 3) is f32[2,3]; TY0(GC_F32) is f32[]. */
#define TY(dt, ...) gc_type_make((dt), N_ARGS(__VA_ARGS__), (int64_t[]){__VA_ARGS__})
#define TY0(dt) gc_type_make((dt), 0, NULL)
#define VALS(...) (double[]){__VA_ARGS__}

static inline void tg_init(tg *t) {
  memset(t, 0, sizeof *t);
  t->g = gc_graph_new("test");
  gc_tensor_map_init(&t->params);
  gc_tensor_map_init(&t->inputs);
}

static inline void tg_check(tg *t);

/* Runs the pending checks, then frees everything. */
static inline void tg_free(tg *t) {
  tg_check(t);
  gc_graph_free(t->g);
  gc_tensor_map_clear(&t->params);
  gc_tensor_map_clear(&t->inputs);
}

static inline gc_tensor *tensor_of(gc_type type, const double *vals) {
  gc_tensor *x = gc_tensor_new(&type);
  assert_non_null(x);
  for (int64_t i = 0; vals && i < gc_tensor_numel(x); i++) gc_tensor_store(x, i, vals[i]);
  return x;
}

/* A source node (input or param) and its tensor in the matching map. */
static inline int tg_source(tg *t, gc_op op, const char *name, gc_type type, const double *vals) {
  gc_attrs a = {.name = {.name = name}};
  int id = gc_graph_add(t->g, op, (int[]){0}, 0, &a, &type, &t->d);
  if (id < 0) fail_msg("%s", t->d.msg);
  gc_tensor_map_put(op == GC_OP_PARAM ? &t->params : &t->inputs, name, tensor_of(type, vals));
  return id;
}

static inline int tg_input(tg *t, const char *name, gc_type type, const double *vals) {
  return tg_source(t, GC_OP_INPUT, name, type, vals);
}

static inline int tg_param(tg *t, const char *name, gc_type type, const double *vals) {
  return tg_source(t, GC_OP_PARAM, name, type, vals);
}

static inline int tg_op_(tg *t, gc_op op, const int *in, int n, const gc_attrs *attrs,
                         const gc_type *declared) {
  /* (never NULL: gc_graph_add memcpy()s the operand list even when empty) */
  int id = gc_graph_add(t->g, op, in ? in : (int[]){0}, n, attrs, declared, &t->d);
  if (id < 0) fail_msg("adding %s: %s", gc_op_name(op), t->d.msg);
  return id;
}
/* OP(t, GC_OP_ADD, attrs-or-NULL, declared-type-or-NULL, operand, ...) */
#define OP(t, op, attrs, declared, ...) \
  tg_op_((t), (op), (int[]){__VA_ARGS__}, N_ARGS(__VA_ARGS__), (attrs), (declared))

/* g with node `id` bound to output "value" (a copy; g is left alone). */
static inline gc_graph *tg_with_output(const gc_graph *g, int id) {
  gc_diag d;
  gc_graph *c = gc_graph_clone(g);
  assert_non_null(c);
  if (gc_graph_add_output(c, "value", id, &d)) fail_msg("%s", d.msg);
  return c;
}

/* Run g with node `id` as its one output on the backend under test: 0 with
 * the value in *out (the caller frees it), or -1 with the message in t->d. */
static inline int tg_try_eval(tg *t, int id, gc_tensor **out) {
  gc_graph *c = tg_with_output(t->g, id);
  gc_tensor_map params, outs;
  gc_tensor_map_init(&params);
  gc_tensor_map_init(&outs);
  for (int i = 0; i < t->params.n; i++) gc_tensor_map_put(&params, t->params.names[i], gc_tensor_clone(t->params.tensors[i]));
  int rc = gc_test_run(c, &params, &t->inputs, &outs, &t->d);
  *out = rc ? NULL : gc_tensor_map_take(&outs, "value");
  gc_tensor_map_clear(&params);
  gc_tensor_map_clear(&outs);
  gc_graph_free(c);
  return rc;
}

/* Node `id`'s value (a copy the caller frees), asserting the run succeeds. */
static inline gc_tensor *tg_eval(tg *t, int id) {
  gc_tensor *x;
  if (tg_try_eval(t, id, &x)) fail_msg("run on %s: %s", gc_test_backend(), t->d.msg);
  return x;
}

/* Check node `id`'s type ("f32[2,3]") and values when the graph runs (at
 * tg_check or tg_free). */
static inline void expect_node(tg *t, int id, const char *type, const double *want, double tol) {
  int64_t n = gc_type_numel_unchecked(&t->g->nodes[id]->type);
  t->expect = realloc(t->expect, sizeof *t->expect * (size_t)(t->n_expect + 1));
  assert_non_null(t->expect);
  tg_expect *e = &t->expect[t->n_expect++];
  e->id = id;
  snprintf(e->type, sizeof e->type, "%s", type);
  e->want = malloc(sizeof(double) * (size_t)(n + 1));
  assert_non_null(e->want);
  if (n) memcpy(e->want, want, sizeof(double) * (size_t)n);
  e->tol = tol;
}

/* Run the graph once with every node expect_node recorded as an output and
 * compare each; clears the record. */
static inline void tg_check(tg *t) {
  if (!t->n_expect) return;
  gc_diag d;
  gc_graph *c = gc_graph_clone(t->g);
  assert_non_null(c);
  for (int k = 0; k < t->n_expect; k++) {
    char name[32];
    snprintf(name, sizeof name, "expect%d", k);
    if (gc_graph_add_output(c, name, t->expect[k].id, &d)) fail_msg("%s", d.msg);
  }
  gc_tensor_map params, outs;
  gc_tensor_map_init(&params);
  gc_tensor_map_init(&outs);
  for (int i = 0; i < t->params.n; i++) gc_tensor_map_put(&params, t->params.names[i], gc_tensor_clone(t->params.tensors[i]));
  if (gc_test_run(c, &params, &t->inputs, &outs, &d)) fail_msg("run on %s: %s", gc_test_backend(), d.msg);
  for (int k = 0; k < t->n_expect; k++) {
    char name[32];
    snprintf(name, sizeof name, "expect%d", k);
    const tg_expect *e = &t->expect[k];
    const gc_tensor *x = gc_tensor_map_get(&outs, name);
    assert_non_null(x);
    char b[GC_TYPE_STR_MAX];
    if (strcmp(gc_type_str(&x->type, b, sizeof b), e->type))
      fail_msg("%s %%%d: type %s, expected %s", gc_op_name(t->g->nodes[e->id]->op), e->id, b, e->type);
    double tol = gc_test_tol(x->type.dtype, e->tol);
    for (int64_t i = 0; i < gc_tensor_numel(x); i++) {
      double got = gc_tensor_load(x, i);
      if (!gc_close(got, e->want[i], tol))
        fail_msg("%s %%%d: %s element %lld = %.17g, expected %.17g (tol %g, on %s)",
                 gc_op_name(t->g->nodes[e->id]->op), e->id, e->type, (long long)i, got, e->want[i], tol,
                 gc_test_backend());
    }
  }
  gc_tensor_map_clear(&params);
  gc_tensor_map_clear(&outs);
  gc_graph_free(c);
  for (int k = 0; k < t->n_expect; k++) free(t->expect[k].want);
  free(t->expect);
  t->expect = NULL;
  t->n_expect = 0;
}

/* "f32[2,3]" with dt's name in place of f32. */
static inline const char *type_name(gc_dtype dt, const char *dims, char *buf, size_t size) {
  snprintf(buf, size, "%s%s", gc_dtype_name(dt), dims);
  return buf;
}
#define TN(dt, dims) type_name((dt), (dims), (char[64]){0}, 64)

/* The two float dtypes, with a tolerance each, for looping a test over. */
static const gc_dtype float_dtypes[2] = {GC_F32, GC_F64};
static inline double tol_of(gc_dtype dt) { return dt == GC_F32 ? 2e-7 : 1e-15; }

#endif
