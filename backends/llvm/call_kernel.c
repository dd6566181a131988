/* A call node as a kernel of its own (call_kernel.h). */
#include "backends/llvm/call_kernel.h"
#include "backends/interp/interp.h"

#include <stdio.h>
#include <stdlib.h>

enum { MAX_OPERANDS = 64 };

struct gc_llvm_call {
  gc_loop_buffer_call base;         /* first: the generated code calls base.entry */
  gc_diag failure;                  /* the callee's failure, for the run's error */
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

/* The runtime's entry, called by the kernel: operand i in bufs[i] (or the
 * value computed at compile time), the result in bufs[n_in]. */
static int entry(gc_loop_buffer_call *self, void **bufs) {
  gc_llvm_call *c = (gc_llvm_call *)self;
  const void *in[MAX_OPERANDS];
  for (int i = 0; i < c->n_in; i++) in[i] = c->fixed[i] ? c->fixed[i]->data : bufs[i];
  return gc_call_site_run(c->site, in, bufs[c->n_in], &c->failure) ? 1 : 0;
}

gc_loop_fn *gc_llvm_call_loop_fn(const gc_graph *g, int id, gc_llvm_call *c, const char *name, int **buffer_nodes,
                                 gc_diag *d) {
  const gc_node *n = g->nodes[id];
  gc_loop_fn *f = gc_loop_new(name);
  int *nodes = malloc(sizeof *nodes * ((size_t)n->n_in + 1));
  if (!f || !nodes) return gc_loop_free(f), free(nodes), gc_diag_set(d, "out of memory"), NULL;
  char text[64];
  for (int i = 0; i <= n->n_in; i++) {
    int x = i < n->n_in ? n->in[i] : id;
    const gc_node *v = g->nodes[x];
    if (gc_op_is_fed(v->op)) snprintf(text, sizeof text, "%s", v->attrs.name.name);
    else snprintf(text, sizeof text, "%%%d", x);
    gc_loop_add_buffer(f, text, v->type.dtype, gc_type_numel_unchecked(&v->type), i == n->n_in);
    nodes[i] = x;
  }
  int callee = gc_loop_add_callee(f, n->attrs.call.callee, id);
  f->callees[callee].buffer = true;
  f->callees[callee].error = gc_loop_add_error(f, "call failed (%lld)");
  gc_loop_call(f, GC_LOOP_TOP, callee, GC_I32, NULL, 0);
  c->base.entry = entry;
  *buffer_nodes = nodes;
  return f;
}

int gc_llvm_call_error(gc_llvm_call *c, gc_diag *d) {
  gc_diag_set(d, "%s", c->failure.msg);
  return -1;
}

int gc_llvm_callees_bind(const gc_graph *g, gc_loop_fn *f, void **table, gc_diag *d) {
  for (int c = 0; c < f->n_callees; c++) {
    gc_loop_callee *ce = &f->callees[c];
    if (ce->buffer) continue;   /* its slot is the call kernel's */
    const gc_node *n = g->nodes[ce->node];
    const gc_type *types[MAX_OPERANDS];
    for (int i = 0; i < n->n_in && i < MAX_OPERANDS; i++) types[i] = &g->nodes[n->in[i]]->type;
    gc_call_site *s = gc_call_site_new(n, ce->node, types, d);
    if (!s) return -1;
    table[c] = gc_call_site_scalar_fn(s, &ce->ret, ce->arg, GC_LOOP_MAX_CALL_ARGS, &ce->n_args);
    gc_call_site_free(s);
  }
  return 0;
}
