/* The oracle an optimised graph is compared against (header only): every
 * output and every updated param of one interpreter run of g, in one map.
 * The run works on copies of the params; theirs stay as they were. */
#ifndef GC_TEST_INTERP_ORACLE_H
#define GC_TEST_INTERP_ORACLE_H

#include "tests/testutil.h"
#include "backends/interp/interp.h"

static inline void gc_test_interp_all(const gc_graph *g, const gc_tensor_map *params0, const gc_tensor_map *inputs,
                                      gc_tensor_map *out) {
  gc_diag d;
  gc_tensor_map params;
  gc_tensor_map_init(&params);
  for (int i = 0; i < params0->n; i++) gc_tensor_map_put(&params, params0->names[i], gc_tensor_clone(params0->tensors[i]));
  gc_tensor_map_init(out);
  if (gc_interp_run(g, &params, inputs, out, &d)) fail_msg("run %s: %s", g->name, d.msg);
  for (int i = 0; i < g->n_updates; i++)
    gc_tensor_map_put(out, g->updates[i].name, gc_tensor_clone(gc_tensor_map_get(&params, g->updates[i].name)));
  gc_tensor_map_clear(&params);
}

#endif
