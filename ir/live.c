/* Liveness of stored values (see live.h). */
#include "ir/live.h"

#include <stdlib.h>

int gc_live_init(gc_live *l, const gc_graph *g, const gc_uses *u, gc_diag *d) {
  int n = g->n_nodes;
  l->step = malloc(sizeof *l->step * ((size_t)n + 1));
  l->last = malloc(sizeof *l->last * ((size_t)n + 1));
  l->stored = calloc((size_t)n + 1, sizeof *l->stored);
  l->mark = calloc((size_t)n + 1, sizeof *l->mark);
  if (!l->step || !l->last || !l->stored || !l->mark) {
    gc_live_free(l);
    return gc_diag_set(d, "out of memory");
  }
  int s = -1;
  for (int i = 0; i < n; i++) {
    const gc_node *nd = g->nodes[i];
    bool kept = gc_uses_is_bound(u, i) || gc_uses_read_by_collective(u, g, i);   /* stored by a kernel of its own */
    bool source = !nd->kernel && gc_op_is_source(nd->op) && !(kept && !gc_op_is_fed(nd->op));
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
    l->stored[i] = bound || gc_op_is_collective(g->nodes[i]->op) || gc_uses_read_by_collective(u, g, i);
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
  free(l->step), free(l->last), free(l->stored), free(l->mark);
  l->step = l->last = NULL;
  l->stored = l->mark = NULL;
}

void gc_live_steps(const gc_live *l, const gc_graph *g, int *nodes, int *first) {
  int n = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    int s = l->step[i];
    if (s < 0) continue;
    if (n == 0 || l->step[nodes[n - 1]] != s) first[s] = n;
    nodes[n++] = i;
  }
  first[l->n_steps] = n;
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

/* The first node of v's step that reads the param or, through nodes of
 * the step other than v and reductions, a value that does, and is not an
 * elementwise op of the param's shape or a reduction, before v (or v
 * itself): -1 if none.  in_d marks the nodes reached (of the step only;
 * cleared again). */
static int into_blocker(const gc_live *l, const gc_graph *g, int v, int param) {
  bool *in_d = l->mark;
  int s = l->step[v], first = v, blocker = -1;
  while (first > 0 && l->step[first - 1] == s) first--;
  int end = first;
  for (; end < g->n_nodes && (l->step[end] == s || l->step[end] < 0) && blocker < 0; end++) {
    if (l->step[end] != s) continue;
    const gc_node *n = g->nodes[end];
    bool reads = false;
    for (int k = 0; k < n->n_in && !reads; k++) reads = n->in[k] == param || in_d[n->in[k]];
    if (!reads) continue;
    gc_kind kind = gc_op_kind(n->op);
    /* v's readers read the new value; a reduction's, a value complete
     * before anything reads it */
    in_d[end] = end != v && kind != GC_KIND_REDUCE;
    bool ok = end <= v && ((kind == GC_KIND_ELEMENTWISE && gc_shape_equal(&n->type, &g->nodes[param]->type)) ||
                           kind == GC_KIND_REDUCE);
    if (!ok) blocker = end;
  }
  for (int i = first; i < end; i++) in_d[i] = false;
  return blocker;
}

const char *gc_live_into_conflict(const gc_live *l, const gc_uses *u, const gc_graph *g, int v, int param, int *reader) {
  *reader = -1;
  if (!l->stored[v] || l->step[v] < 0) return "the value has no buffer of its own to write";
  if (gc_uses_is_bound(u, param)) return "an output or update binds the param itself, and wants its old value";
  int binds = 0;
  for (int i = 0; i < g->n_updates; i++) binds += g->updates[i].node == v;
  if (binds != 1) return "the value is bound to more than one update";
  const int *r = gc_uses_readers(u, param);
  for (int k = 0; k < gc_uses_count(u, param); k++)
    if (l->step[r[k]] > l->step[v]) {
      *reader = r[k];
      return "reads the param in a later kernel, after this write";
    }
  *reader = into_blocker(l, g, v, param);
  if (*reader < 0) return NULL;
  return *reader > v ? "reads the param after this write, in the same kernel"
                     : "reads the param other than element by element, in the same kernel";
}
