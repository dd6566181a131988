/* plan: a place for every stored value.
 *
 * Kernels run in node order, one after another.  A value a kernel stores
 * (one read after it, or bound to an output or update) is born when its
 * kernel runs and dies after the last kernel reading it (outputs and
 * updates: at the end).  Values alive at the same time get disjoint byte
 * ranges of one arena (first fit, 64-byte aligned); the arena's size is the
 * peak.  Two kinds of in place:
 *   - an update written straight into its param's buffer (into="P"), when
 *     every other read of the param comes before it, and the reads in its
 *     own kernel are elementwise reads of the same element
 *     (gc_live_into_conflict, the rule the verifier checks);
 *   - an elementwise kernel's only result over an operand that dies there
 *     (same bytes, read only elementwise), when that operand is an arena
 *     value.
 * With --stats it reports the peak against the sum of all stored values. */
#include "passes/pass.h"
#include "backends/runtime/arena_plan.h"
#include "ir/live.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  const gc_graph *g;
  gc_uses u;
  gc_live l;
} planner;

static bool same_shape(const gc_node *a, const gc_node *b) { return gc_type_equal(&a->type, &b->type); }

gc_graph *gc_pass_plan(gc_graph *g0, gc_pass_ctx *ctx) {
  gc_graph *g = gc_graph_clone(g0);
  if (!g) return gc_diag_set(ctx->d, "out of memory"), NULL;
  int n = g->n_nodes;
  planner p = {.g = g};
  gc_arena_value *vals = calloc((size_t)n + 1, sizeof *vals);
  size_t *offset = malloc(sizeof *offset * ((size_t)n + 1));
  int *reuse = malloc(sizeof *reuse * ((size_t)n + 1));   /* in place over this value, or -1 */
  int rc = vals && offset && reuse ? 0 : gc_diag_set(ctx->d, "out of memory");
  if (rc == 0) rc = gc_uses_init(&p.u, g, ctx->d);
  if (rc == 0 && (rc = gc_live_init(&p.l, g, &p.u, ctx->d))) gc_uses_free(&p.u);
  if (rc == 0) {
    const int *step = p.l.step, *last = p.l.last;
    const bool *stored = p.l.stored;
    for (int i = 0; i < n; i++) {
      g->nodes[i]->planned = false;
      g->nodes[i]->into = NULL;
      reuse[i] = -1;
    }
    /* updates into their params */
    for (int u = 0; ctx->opts->plan_inplace_updates && u < g->n_updates; u++) {
      int v = g->updates[u].node, param = gc_graph_find_param(g, g->updates[u].name);
      int reader;
      if (!gc_op_is_fed(g->nodes[v]->op) && !gc_live_into_conflict(&p.l, &p.u, g, v, param, &reader)) {
        g->nodes[v]->into = gc_arena_strdup(g->arena, g->updates[u].name);
        g->nodes[v]->planned = true;
      }
    }
    /* an elementwise kernel's only result over an operand dying there */
    int first = 0;
    for (int i = 0; i < n; i++) {
      if (i > 0 && step[i] != step[i - 1]) first = i;
      if (!stored[i] || g->nodes[i]->into || !gc_live_elementwise_step(&p.l, g, first)) continue;
      int results = 0;
      for (int j = first; j < n && step[j] == step[i]; j++) results += stored[j];
      if (results != 1) continue;
      for (int j = first; j <= i && reuse[i] < 0; j++)
        for (int k = 0; k < g->nodes[j]->n_in && reuse[i] < 0; k++) {
          int x = g->nodes[j]->in[k];
          if (stored[x] && !g->nodes[x]->into && !gc_uses_is_bound(&p.u, x) && last[x] == step[i] &&
              same_shape(g->nodes[x], g->nodes[i]) && reuse[x] < 0)
            reuse[i] = x;
        }
    }
    for (int i = 0; i < n; i++) {
      bool arena = stored[i] && !g->nodes[i]->into && reuse[i] < 0;
      vals[i] = (gc_arena_value){arena ? (size_t)gc_node_bytes(g->nodes[i]) : 0, step[i] < 0 ? 0 : step[i], 0};
      if (arena) vals[i].dies = last[i];
    }
    /* a value reused in place lives on in its heir */
    for (int i = 0; i < n; i++)
      if (reuse[i] >= 0) vals[reuse[i]].dies = last[i] > vals[reuse[i]].dies ? last[i] : vals[reuse[i]].dies;
    size_t total = 0;
    if (gc_plan_arena(vals, n, p.l.n_steps + 1, offset, &total)) rc = gc_diag_set(ctx->d, "out of memory");
    double sum = 0;
    for (int i = 0; rc == 0 && i < n; i++) {
      if (!stored[i] || g->nodes[i]->into) continue;
      int base = i;
      while (reuse[base] >= 0) base = reuse[base];
      g->nodes[i]->planned = true;
      g->nodes[i]->offset = offset[base] == SIZE_MAX ? 0 : (int64_t)offset[base];   /* an empty value: anywhere */
      sum += (double)gc_node_bytes(g->nodes[i]);
    }
    /* every value's buffer, as a run of the graph unfused and unplanned
     * would hold them (sources aside) */
    double every = 0;
    for (int i = 0; i < n; i++)
      if (!gc_op_is_source(g->nodes[i]->op)) every += (double)gc_node_bytes(g->nodes[i]);
    if (rc == 0 && ctx->opts->stats)
      fprintf(ctx->out,
              "# plan: peak %zu bytes in one arena; the stored values' sizes sum to %.0f bytes (%.1f%%), "
              "every value's buffer to %.0f bytes (%.1f%%)\n",
              total, sum, sum > 0 ? 100.0 * (double)total / sum : 0, every, every > 0 ? 100.0 * (double)total / every : 0);
  }
  gc_uses_free(&p.u);
  gc_live_free(&p.l);
  free(vals), free(offset), free(reuse);
  if (rc) {
    gc_graph_free(g);
    return NULL;
  }
  return g;
}
