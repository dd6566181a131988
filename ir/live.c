/* Liveness of stored values (see live.h). */
#include "ir/live.h"

#include <stdlib.h>

int gc_live_init(gc_live *l, const gc_graph *g, const gc_uses *u, gc_diag *d) {
  int n = g->n_nodes;
  l->step = malloc(sizeof *l->step * ((size_t)n + 1));
  l->last = malloc(sizeof *l->last * ((size_t)n + 1));
  l->stored = calloc((size_t)n + 1, sizeof *l->stored);
  if (!l->step || !l->last || !l->stored) {
    gc_live_free(l);
    return gc_diag_set(d, "out of memory");
  }
  int s = -1;
  for (int i = 0; i < n; i++) {
    const gc_node *nd = g->nodes[i];
    bool source = !nd->kernel && gc_op_is_source(nd->op) && !(gc_uses_is_bound(u, i) && !gc_op_is_fed(nd->op));
    if (source) {
      l->step[i] = -1;
      continue;
    }
    if (!nd->kernel || i == 0 || g->nodes[i - 1]->kernel != nd->kernel) s++;
    l->step[i] = s;
  }
  l->n_steps = s + 1;
  for (int i = 0; i < n; i++) {
    l->last[i] = l->step[i];
    l->stored[i] = false;
    if (l->step[i] < 0) continue;
    bool bound = gc_uses_is_bound(u, i);
    l->stored[i] = bound;
    const int *r = gc_uses_readers(u, i);
    for (int k = 0; k < gc_uses_count(u, i); k++) {
      int t = l->step[r[k]];
      if (t != l->step[i]) l->stored[i] = true;
      if (t > l->last[i]) l->last[i] = t;
    }
    if (bound) l->last[i] = l->n_steps;
  }
  return 0;
}

void gc_live_free(gc_live *l) {
  free(l->step), free(l->last), free(l->stored);
  l->step = l->last = NULL;
  l->stored = NULL;
}

bool gc_live_elementwise_step(const gc_live *l, const gc_graph *g, int first) {
  int s = l->step[first];
  for (int i = first; i < g->n_nodes && l->step[i] <= s; i++) {
    if (l->step[i] != s) continue;
    gc_kind k = gc_op_kind(g->nodes[i]->op);
    if (k != GC_KIND_ELEMENTWISE && k != GC_KIND_SOURCE) return false;
  }
  return true;
}
