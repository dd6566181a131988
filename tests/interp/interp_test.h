/* Helpers shared by the interpreter suites: build a graph node by node with
 * gc_graph_add, feed inputs, evaluate one node, compare its type and values
 * with ones worked out by hand.  Header only; each suite includes it once. */
#ifndef GC_INTERP_TEST_H
#define GC_INTERP_TEST_H

#include "tests/testutil.h"
#include "backends/interp/interp.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  gc_graph *g;
  gc_tensor_map params, inputs;
  gc_diag d;
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

static inline void tg_free(tg *t) {
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

/* Node `id`'s value (a copy the caller frees), asserting the run succeeds. */
static inline gc_tensor *tg_eval(tg *t, int id) {
  gc_tensor **values = calloc((size_t)t->g->n_nodes, sizeof *values);
  if (gc_interp_eval(t->g, &t->params, &t->inputs, values, &t->d)) fail_msg("eval: %s", t->d.msg);
  gc_tensor *x = gc_tensor_clone(values[id]);
  gc_interp_values_free(t->g, values);
  free(values);
  return x;
}

static inline void expect_tensor(const gc_tensor *x, const char *type, const double *want, double tol) {
  char b[GC_TYPE_STR_MAX];
  assert_string_equal(gc_type_str(&x->type, b, sizeof b), type);
  for (int64_t i = 0; i < gc_tensor_numel(x); i++) {
    double got = gc_tensor_load(x, i);
    if (!gc_close(got, want[i], tol))
      fail_msg("%s element %lld = %.17g, expected %.17g", type, (long long)i, got, want[i]);
  }
}

/* Evaluate node `id`, check its type ("f32[2,3]") and values. */
static inline void expect_node(tg *t, int id, const char *type, const double *want, double tol) {
  gc_tensor *x = tg_eval(t, id);
  expect_tensor(x, type, want, tol);
  gc_tensor_free(x);
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
