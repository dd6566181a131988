/* plan: a place for every stored value (gc_plan, ir/plan.h: offsets in one
 * arena by liveness, updates into their params, elementwise results over
 * dying operands).  gc_compile runs it last whatever the pipeline, so every
 * backend runs a planned graph.  With --stats it reports the peak against
 * the sum of all stored values. */
#include "passes/pass.h"
#include "ir/plan.h"

gc_graph *gc_pass_plan(gc_graph *g0, gc_pass_ctx *ctx) {
  gc_graph *g = gc_graph_clone(g0);
  if (!g) return gc_diag_set(ctx->d, "out of memory"), NULL;
  gc_plan_stats st;
  if (gc_plan(g, ctx->opts->plan_inplace_updates, &st, ctx->d)) return gc_graph_free(g), NULL;
  if (ctx->opts->stats)
    fprintf(ctx->out,
            "# plan: peak %lld bytes in one arena; the stored values' sizes sum to %.0f bytes (%.1f%%), "
            "every value's buffer to %.0f bytes (%.1f%%)\n",
            (long long)st.peak, st.stored, st.stored > 0 ? 100.0 * (double)st.peak / st.stored : 0, st.every,
            st.every > 0 ? 100.0 * (double)st.peak / st.every : 0);
  return g;
}
