/* A call node as a kernel of its own (call_kernel.h). */
#include "backends/llvm/call_kernel.h"

gc_call_site *gc_llvm_call_site(const gc_graph *g, int id, gc_diag *d) {
  const gc_node *n = g->nodes[id];
  const gc_type *types[64];
  for (int i = 0; i < n->n_in && i < 64; i++) {
    const gc_node *o = g->nodes[n->in[i]];
    types[i] = &o->type;
    if (gc_op_is_generated(o->op))
      return gc_diag_set(d, "call @%s %%%d: operand %d is a %s, computed where it is read, with no buffer to pass",
                         n->attrs.call.callee, id, i, gc_op_name(o->op)),
             NULL;
  }
  return gc_call_site_new(n, id, types, d);
}

void gc_llvm_call_lives(const gc_graph *g, int id, int k, gc_arena_value *v, bool *stored) {
  const gc_node *n = g->nodes[id];
  stored[id] = true;
  v[id].born = v[id].dies = k;
  v[id].bytes = (size_t)gc_node_bytes(n);
  for (int i = 0; i < n->n_in; i++)
    if (v[n->in[i]].dies < k) v[n->in[i]].dies = k;
}
