/* A call node as a kernel of its own (call_kernel.h). */
#include "backends/llvm/call_kernel.h"
#include "backends/interp/interp.h"

#include <stdlib.h>

enum { MAX_OPERANDS = 64 };

struct gc_llvm_call {
  gc_call_site *site;
  int n_in;
  gc_tensor *fixed[MAX_OPERANDS];   /* a generated operand's value, or NULL */
};

void gc_llvm_call_free(gc_llvm_call *c) {
  if (!c) return;
  gc_call_site_free(c->site);
  for (int i = 0; i < c->n_in; i++) gc_tensor_free(c->fixed[i]);
  free(c);
}

/* The value of a const or an iota, a source of no operands, by the interpreter. */
static gc_tensor *generate(const gc_node *n, gc_diag *d) {
  gc_graph *g = gc_graph_new("operand");
  gc_tensor *values[1] = {NULL}, *v = NULL;
  if (g && gc_graph_add(g, n->op, NULL, 0, &n->attrs, &n->type, d) == 0 && gc_interp_eval(g, NULL, NULL, values, d) == 0)
    v = values[0];
  gc_graph_free(g);
  return v;
}

gc_llvm_call *gc_llvm_call_new(const gc_graph *g, int id, gc_diag *d) {
  const gc_node *n = g->nodes[id];
  if (n->n_in > MAX_OPERANDS) return gc_diag_set(d, "call %%%d: more than %d operands", id, MAX_OPERANDS), NULL;
  gc_llvm_call *c = calloc(1, sizeof *c);
  if (!c) return gc_diag_set(d, "out of memory"), NULL;
  c->n_in = n->n_in;
  const gc_type *types[MAX_OPERANDS];
  for (int i = 0; i < n->n_in; i++) {
    const gc_node *o = g->nodes[n->in[i]];
    types[i] = &o->type;
    if (!gc_op_is_generated(o->op)) continue;
    if (o->n_in) {   /* rand_uniform: its counter changes between runs */
      gc_diag_set(d, "call @%s %%%d: operand %d is a %s, computed where it is read: store it first (cast it)",
                  n->attrs.call.callee, id, i, gc_op_name(o->op));
      return gc_llvm_call_free(c), NULL;
    }
    if (!(c->fixed[i] = generate(o, d))) return gc_llvm_call_free(c), NULL;
  }
  if (!(c->site = gc_call_site_new(n, id, types, d))) return gc_llvm_call_free(c), NULL;
  return c;
}

int gc_llvm_call_run(const gc_llvm_call *c, const void **in, void *out, gc_diag *d) {
  for (int i = 0; i < c->n_in; i++)
    if (c->fixed[i]) in[i] = c->fixed[i]->data;
  return gc_call_site_run(c->site, in, out, d);
}

void gc_llvm_call_lives(const gc_graph *g, int id, int k, gc_arena_value *v, bool *stored) {
  const gc_node *n = g->nodes[id];
  stored[id] = true;
  v[id].born = v[id].dies = k;
  v[id].bytes = (size_t)gc_node_bytes(n);
  for (int i = 0; i < n->n_in; i++)
    if (v[n->in[i]].dies < k) v[n->in[i]].dies = k;
}
