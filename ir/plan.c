/* gc_plan: a place for every stored value (see plan.h).
 *
 * Kernels run in node order, one after another.  A value a kernel stores
 * (one read after it, or bound to an output or update) is born when its
 * kernel runs and dies after the last kernel reading it (outputs and
 * updates: at the end). */
#include "ir/plan.h"
#include "ir/first_fit.h"
#include "ir/live.h"

#include <stdlib.h>
#include <string.h>

static bool same_shape(const gc_node *a, const gc_node *b) { return gc_type_equal(&a->type, &b->type); }

/* Updates written straight into their params (into=). */
static void place_updates(gc_graph *g, const gc_live *l, const gc_uses *u) {
  for (int k = 0; k < g->n_updates; k++) {
    int v = g->updates[k].node, param = gc_graph_find_param(g, g->updates[k].name);
    int reader;
    if (!gc_op_is_fed(g->nodes[v]->op) && !gc_live_into_conflict(l, u, g, v, param, &reader)) {
      g->nodes[v]->into = gc_arena_strdup(g->arena, g->updates[k].name);
      g->nodes[v]->planned = true;
    }
  }
}

/* reuse[i]: the operand an elementwise kernel's only result i is written
 * over (dying there, an arena value of i's type), or -1. */
static void find_reuse(const gc_graph *g, const gc_live *l, const gc_uses *u, int *reuse) {
  const int *step = l->step, *last = l->last;
  const bool *stored = l->stored;
  int n = g->n_nodes, first = 0;
  for (int i = 0; i < n; i++) {
    if (i > 0 && step[i] != step[i - 1]) first = i;
    if (!stored[i] || g->nodes[i]->into || gc_node_bytes(g->nodes[i]) == 0 || !gc_live_elementwise_step(l, g, first))
      continue;
    int results = 0;
    for (int j = first; j < n && step[j] == step[i]; j++) results += stored[j];
    if (results != 1) continue;
    for (int j = first; j <= i && reuse[i] < 0; j++)
      for (int k = 0; k < g->nodes[j]->n_in && reuse[i] < 0; k++) {
        int x = g->nodes[j]->in[k];
        if (stored[x] && !g->nodes[x]->into && !gc_uses_is_bound(u, x) && last[x] == step[i] &&
            same_shape(g->nodes[x], g->nodes[i]) && reuse[x] < 0)
          reuse[i] = x;
      }
  }
}

int gc_plan(gc_graph *g, bool inplace_updates, gc_plan_stats *stats, gc_diag *d) {
  int n = g->n_nodes;
  gc_uses u;
  gc_live l;
  gc_arena_value *vals = calloc((size_t)n + 1, sizeof *vals);
  size_t *offset = malloc(sizeof *offset * ((size_t)n + 1));
  int *reuse = malloc(sizeof *reuse * ((size_t)n + 1));   /* in place over this value, or -1 */
  int rc = vals && offset && reuse ? 0 : gc_diag_set(d, "out of memory");
  if (rc == 0 && (rc = gc_uses_init(&u, g, d)) == 0 && (rc = gc_live_init(&l, g, &u, d))) gc_uses_free(&u);
  if (rc) {
    free(vals), free(offset), free(reuse);
    return -1;
  }
  for (int i = 0; i < n; i++) {
    g->nodes[i]->planned = false;
    g->nodes[i]->into = NULL;
    g->nodes[i]->over = 0;
    reuse[i] = -1;
  }
  if (inplace_updates) place_updates(g, &l, &u);
  find_reuse(g, &l, &u, reuse);
  for (int i = 0; i < n; i++) {
    bool arena = l.stored[i] && !g->nodes[i]->into && reuse[i] < 0;
    vals[i] = (gc_arena_value){arena ? (size_t)gc_node_bytes(g->nodes[i]) : 0, l.step[i] < 0 ? 0 : l.step[i], 0};
    if (arena) vals[i].dies = l.last[i];
  }
  /* a value reused in place lives on in its heir */
  for (int i = 0; i < n; i++)
    if (reuse[i] >= 0) vals[reuse[i]].dies = l.last[i] > vals[reuse[i]].dies ? l.last[i] : vals[reuse[i]].dies;
  size_t total = 0;
  if (gc_first_fit(vals, n, l.n_steps + 1, offset, &total)) rc = gc_diag_set(d, "out of memory");
  double sum = 0, every = 0;
  for (int i = 0; rc == 0 && i < n; i++) {
    if (!l.stored[i] || g->nodes[i]->into) continue;
    int base = i;
    while (reuse[base] >= 0) base = reuse[base];
    g->nodes[i]->planned = true;
    g->nodes[i]->over = reuse[i] + 1;
    g->nodes[i]->offset = offset[base] == SIZE_MAX ? 0 : (int64_t)offset[base];   /* an empty value: anywhere */
    sum += (double)gc_node_bytes(g->nodes[i]);
  }
  /* every value's buffer, as a run of the graph unfused and unplanned
   * would hold them (sources aside) */
  for (int i = 0; i < n; i++)
    if (!gc_op_is_source(g->nodes[i]->op)) every += (double)gc_node_bytes(g->nodes[i]);
  if (stats) *stats = (gc_plan_stats){(int64_t)total, sum, every};
  gc_uses_free(&u);
  gc_live_free(&l);
  free(vals), free(offset), free(reuse);
  return rc;
}
