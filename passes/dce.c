/* dce: drop every node that no output or update needs.  Params and inputs
 * stay even when unused: they are the program's interface (a checkpoint
 * holds every param; a caller feeds every input), and so do calls marked
 * {effects}. */
#include "passes/pass.h"
#include "ir/rewrite.h"

#include <stdlib.h>

gc_graph *gc_pass_dce(gc_graph *g, gc_pass_ctx *ctx) {
  bool *live = calloc((size_t)g->n_nodes + 1, sizeof *live);
  if (!live) return gc_diag_set(ctx->d, "out of memory"), NULL;
  for (int i = 0; i < g->n_outputs; i++) live[g->outputs[i].node] = true;
  for (int i = 0; i < g->n_updates; i++) live[g->updates[i].node] = true;
  for (int i = g->n_nodes - 1; i >= 0; i--) {
    const gc_node *n = g->nodes[i];
    if (gc_op_is_fed(n->op) || gc_node_has_effects(n)) live[i] = true;
    if (live[i])
      for (int k = 0; k < n->n_in; k++) live[n->in[k]] = true;
  }
  gc_rebuild r;
  gc_graph *out = NULL;
  if (gc_rebuild_begin(&r, g, ctx->d) == 0) {
    for (int i = 0; i < g->n_nodes; i++)
      if (live[i]) gc_rebuild_copy(&r, i);
    out = gc_rebuild_finish(&r);
  }
  free(live);
  return out;
}
