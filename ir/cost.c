/* ir/cost.c — what a node's value weighs and what computing it costs. */
#include "ir/ir.h"

int64_t gc_node_bytes(const gc_node *n) {
  return gc_type_numel_unchecked(&n->type) * (int64_t)gc_dtype_size(n->type.dtype);
}

double gc_node_flops(const gc_graph *g, int id) {
  const gc_node *n = g->nodes[id];
  double out = (double)gc_type_numel_unchecked(&n->type);
  switch (gc_op_kind(n->op)) {
  case GC_KIND_CONTRACT: {
    const gc_type *a = &g->nodes[n->in[0]]->type;
    int64_t k = n->attrs.dot.transpose_a ? a->dims[a->rank - 2] : a->dims[a->rank - 1];
    return 2.0 * out * (double)k;
  }
  case GC_KIND_REDUCE: return (double)gc_type_numel_unchecked(&g->nodes[n->in[0]]->type);
  case GC_KIND_ELEMENTWISE: return n->op == GC_OP_STOP_GRADIENT ? 0 : out;
  default: return 0;   /* sources, layout and index ops move data */
  }
}

double gc_graph_flops(const gc_graph *g) {
  double flops = 0;
  for (int i = 0; i < g->n_nodes; i++) flops += gc_node_flops(g, i);
  return flops;
}
