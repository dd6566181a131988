/* Use lists and liveness (see uses.h): readers stored as one array indexed
 * by per-node offsets, filled in node order so each list comes out sorted. */
#include "uses.h"

#include <stdlib.h>
#include <string.h>

void gc_uses_free(gc_uses *u) {
  if (!u) return;
  free(u->first);
  free(u->readers);
  free(u->last_use);
  free(u->bound);
  memset(u, 0, sizeof *u);
}

/* Every operand names an earlier node, every binding a node. */
static int check_refs(const gc_graph *g, gc_diag *d) {
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    for (int k = 0; k < n->n_in; k++)
      if (n->in[k] < 0 || n->in[k] >= i)
        return gc_diag_set(d, "node %%%d (%s): operand %d is not defined before use", i, gc_op_name(n->op), k);
  }
  for (int i = 0; i < g->n_outputs; i++)
    if (g->outputs[i].node < 0 || g->outputs[i].node >= g->n_nodes)
      return gc_diag_set(d, "output \"%s\" refers to no value", g->outputs[i].name);
  for (int i = 0; i < g->n_updates; i++)
    if (g->updates[i].node < 0 || g->updates[i].node >= g->n_nodes)
      return gc_diag_set(d, "update \"%s\" refers to no value", g->updates[i].name);
  return 0;
}

/* first[i + 1] = reads of node i, then prefix sums. */
static void count_reads(const gc_graph *g, gc_uses *u) {
  for (int i = 0; i < g->n_nodes; i++)
    for (int k = 0; k < g->nodes[i]->n_in; k++) u->first[g->nodes[i]->in[k] + 1]++;
  for (int i = 0; i < g->n_nodes; i++) u->first[i + 1] += u->first[i];
  u->n_reads = u->first[g->n_nodes];
}

static void fill_readers(const gc_graph *g, gc_uses *u, int *next) {
  memcpy(next, u->first, sizeof *next * (size_t)g->n_nodes);
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    u->last_use[i] = i;
    for (int k = 0; k < n->n_in; k++) {
      u->readers[next[n->in[k]]++] = i;
      u->last_use[n->in[k]] = i;
    }
  }
}

static void mark_bound(const gc_graph *g, gc_uses *u) {
  for (int i = 0; i < g->n_outputs; i++) u->bound[g->outputs[i].node] |= GC_BOUND_OUTPUT;
  for (int i = 0; i < g->n_updates; i++) u->bound[g->updates[i].node] |= GC_BOUND_UPDATE;
  for (int i = 0; i < g->n_nodes; i++)
    if (u->bound[i]) u->last_use[i] = g->n_nodes;
}

int gc_uses_init(gc_uses *u, const gc_graph *g, gc_diag *d) {
  memset(u, 0, sizeof *u);
  if (check_refs(g, d)) return -1;
  size_t n = (size_t)g->n_nodes;
  u->n_nodes = g->n_nodes;
  u->first = calloc(n + 1, sizeof *u->first);
  u->last_use = malloc((n + 1) * sizeof *u->last_use);
  u->bound = calloc(n + 1, sizeof *u->bound);
  if (!u->first || !u->last_use || !u->bound) goto oom;
  count_reads(g, u);
  u->readers = malloc(((size_t)u->n_reads + 1) * sizeof *u->readers);
  int *next = malloc((n + 1) * sizeof *next);
  if (!u->readers || !next) {
    free(next);
    goto oom;
  }
  fill_readers(g, u, next);
  free(next);
  mark_bound(g, u);
  return 0;
oom:
  gc_uses_free(u);
  return gc_diag_set(d, "out of memory computing use lists");
}
