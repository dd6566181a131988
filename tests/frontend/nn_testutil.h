/* Helpers for the builder and nn suites: tensors from arrays, running a
 * finished graph in the interpreter, deterministic test data. */
#ifndef GC_NN_TESTUTIL_H
#define GC_NN_TESTUTIL_H

#include "tests/testutil.h"
#include "backends/interp/interp.h"
#include "frontend/builder.h"

#include <stdlib.h>
#include <string.h>

static inline gc_tensor *tensor_of(gc_dtype dt, int rank, const int64_t *dims, const double *vals) {
  gc_type t = gc_type_make(dt, rank, dims);
  gc_tensor *x = gc_tensor_new(&t);
  assert_non_null(x);
  for (int64_t i = 0; vals && i < gc_tensor_numel(x); i++) gc_tensor_store(x, i, vals[i]);
  return x;
}

static inline void put(gc_tensor_map *m, const char *name, gc_dtype dt, int rank, const int64_t *dims,
                       const double *vals) {
  gc_tensor_map_put(m, name, tensor_of(dt, rank, dims, vals));
}

/* Deterministic values in [-1, 1). */
static inline void fill_vals(double *v, int64_t n, uint32_t seed) {
  for (int64_t i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = (double)(seed >> 8) / (double)(1u << 23) - 1.0;
  }
}

/* Finish the builder (must succeed) and return the graph. */
static inline gc_graph *finish_ok(gc_builder *b) {
  gc_diag d = {0};
  gc_graph *g = gc_builder_finish(b, &d);
  if (!g) fail_msg("builder failed: %s", d.msg);
  return g;
}

/* Run g and take output `name` (the caller frees it). */
static inline gc_tensor *run_out(const gc_graph *g, gc_tensor_map *params, const gc_tensor_map *inputs,
                                 const char *name) {
  gc_diag d = {0};
  gc_tensor_map outs;
  gc_tensor_map_init(&outs);
  if (gc_interp_run(g, params, inputs, &outs, &d)) fail_msg("interp failed: %s", d.msg);
  gc_tensor *t = gc_tensor_map_take(&outs, name);
  assert_non_null(t);
  gc_tensor_map_clear(&outs);
  return t;
}

static inline double at(const gc_tensor *t, int64_t i) { return gc_tensor_load(t, i); }

#endif
