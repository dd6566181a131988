/* tests/autodiff/check.h — a fixture for gradient-check tests (header only):
 * a graph plus its param and input values, filled at random as nodes are
 * declared, and a one-call finish that turns a value into the scalar loss
 * sum(y * r) (r a random input, so every element of y matters differently)
 * and runs the finite-difference check. */
#ifndef GC_TESTS_AUTODIFF_CHECK_H
#define GC_TESTS_AUTODIFF_CHECK_H

#include "tests/autodiff/gradcheck.h"
#include "tests/autodiff/graphs.h"

typedef struct {
  gc_graph *g;
  gc_tensor_map params, inputs;
  gc_test_rng rng;
  int n_inputs;
} chk;

static inline void chk_begin(chk *c, const char *name, uint64_t seed) {
  c->g = gc_graph_new(name);
  gc_tensor_map_init(&c->params);
  gc_tensor_map_init(&c->inputs);
  c->rng.s = seed * 0x9E3779B97F4A7C15ull + 1;
  c->n_inputs = 0;
}

/* A param with uniform values in [lo, hi], at least `gap` away from 0. */
static inline int chk_param(chk *c, const char *name, gc_type t, double lo, double hi, double gap) {
  gc_tensor_map_put(&c->params, name, gc_rand_tensor(&c->rng, t, lo, hi, gap));
  return gb_param(c->g, name, t);
}

/* A param whose values are pairwise at least 0.09 apart (no ties). */
static inline int chk_param_distinct(chk *c, const char *name, gc_type t, double offset) {
  gc_tensor_map_put(&c->params, name, gc_rand_distinct(&c->rng, t, offset));
  return gb_param(c->g, name, t);
}

/* An input holding the given tensor (taken over). */
static inline int chk_input_tensor(chk *c, const char *name, gc_tensor *v) {
  gc_tensor_map_put(&c->inputs, name, v);
  return gb_input(c->g, name, v->type);
}

static inline int chk_input(chk *c, const char *name, gc_type t, double lo, double hi) {
  return chk_input_tensor(c, name, gc_rand_tensor(&c->rng, t, lo, hi, 0));
}

/* An integer input with the given values. */
static inline int chk_index(chk *c, const char *name, gc_type t, const int64_t *v) {
  gc_tensor *x = gc_tensor_new(&t);
  for (int64_t i = 0; i < gc_tensor_numel(x); i++) gc_tensor_store(x, i, (double)v[i]);
  return chk_input_tensor(c, name, x);
}

static inline void chk_free(chk *c) {
  gc_tensor_map_clear(&c->params);
  gc_tensor_map_clear(&c->inputs);
  gc_graph_free(c->g);
  c->g = NULL;
}

/* loss = y itself when scalar-weighting is not wanted (w_input false). */
static inline double chk_finish_loss(chk *c, int loss, const gc_gradcheck_opts *o) {
  gb_output(c->g, "loss", loss);
  double worst = gc_gradcheck(c->g, "loss", &c->params, &c->inputs, o);
  chk_free(c);
  return worst;
}

/* loss = sum(y * r) with r random in [0.5, 1.5]. */
static inline double chk_finish(chk *c, int y, const char *what) {
  char name[32];
  snprintf(name, sizeof name, "r%d", c->n_inputs++);
  int r = chk_input(c, name, *gb_t(c->g, y), 0.5, 1.5);
  gc_gradcheck_opts o = {.what = what};
  return chk_finish_loss(c, gb_weighted_sum(c->g, y, r), &o);
}

#endif
