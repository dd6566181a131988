/* remat: with a memory budget (--mem-budget), recompute values instead of
 * keeping them, until the planned peak fits.
 *
 * It works on fused graphs.  While the plan's peak is over the budget, it
 * finds the step where the most bytes are alive and the values alive across
 * it (computed before, read after) by kernels it may run again (not gathers
 * or scatters; kernels without a dot first); it copies the best such value's kernel to
 * just before the first kernel reading it after the peak, and makes the
 * later readers read the copy, so the value dies earlier.  A copy that does
 * not lower the peak is dropped and the next candidate tried.  Each
 * recomputation is reported; when none helps and the peak is still over
 * the budget, the pass fails naming the lowest peak it reached.  Without a
 * budget it changes nothing. */
#include "passes/pass.h"
#include "ir/rewrite.h"
#include "ir/uses.h"

#include <stdlib.h>
#include <string.h>

/* g planned (the plan pass run on a copy, same node numbers), or NULL. */
static gc_graph *planned(const gc_graph *g, gc_pass_ctx *ctx, gc_diag *d) {
  gc_pass_options quiet = *ctx->opts;
  quiet.stats = false;
  gc_pass_ctx c = {&quiet, d, ctx->out};
  return gc_pass_plan((gc_graph *)g, &c);
}

static int64_t planned_peak(const gc_graph *g, gc_pass_ctx *ctx, gc_diag *d) {
  gc_graph *p = planned(g, ctx, d);
  if (!p) return -1;
  int64_t peak = gc_graph_stats_of(p).peak_bytes;
  gc_graph_free(p);
  return peak;
}

/* Whether planned node i takes arena bytes of its own: not written into a
 * param, not in place over one of its kernel's operands. */
static bool own_bytes(const gc_graph *pl, int i) {
  const gc_node *n = pl->nodes[i];
  if (!n->planned || n->into) return false;
  for (int k = 0; k < n->n_in; k++)
    if (pl->nodes[n->in[k]]->planned && !pl->nodes[n->in[k]]->into && pl->nodes[n->in[k]]->offset == n->offset)
      return false;
  return true;
}

typedef struct {
  int n;
  int *step;        /* node -> kernel step, -1 outside kernels */
  int *first;       /* step -> its first node */
  int n_steps;
} steps;

static void number(const gc_graph *g, steps *s) {
  s->n_steps = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    int k = g->nodes[i]->kernel;
    s->step[i] = -1;
    if (!k) continue;
    if (i == 0 || g->nodes[i - 1]->kernel != k) s->first[s->n_steps++] = i;
    s->step[i] = s->n_steps - 1;
  }
}

/* Whether kernel step t may run again: not a gather, scatter or call (cheap
 * kernels are preferred: see cost). */
static bool recomputable(const gc_graph *g, const steps *s, int t) {
  for (int i = s->first[t]; i < g->n_nodes && s->step[i] == t; i++)
    if (gc_op_is_alone(g->nodes[i]->op)) return false;   /* a call too: never run twice */
  return true;
}

/* Running kernel step t again costs: 1 without a dot, 4 with one (an op of
 * cost `contract` in ops.def). */
static int cost(const gc_graph *g, const steps *s, int t) {
  for (int i = s->first[t]; i < g->n_nodes && s->step[i] == t; i++)
    if (gc_op_cost(g->nodes[i]->op) == GC_COST_CONTRACT) return 4;
  return 1;
}

/* A copy of g with kernel step t run again before step `at`, the readers
 * from `at` on reading the copy's values. */
static gc_graph *recompute(const gc_graph *g, const steps *s, int t, int at, gc_diag *d) {
  gc_rebuild r;
  if (gc_rebuild_begin(&r, g, d)) return NULL;
  int kernel = g->n_kernels + 1, begin = s->first[t], end = begin;
  while (end < g->n_nodes && s->step[end] == t) end++;
  for (int i = 0; i < g->n_nodes; i++) {
    if (i == s->first[at]) {
      int *clone = malloc(sizeof *clone * (size_t)(end - begin));
      if (!clone) return gc_emitter_fail(&r.em, "out of memory"), gc_rebuild_finish(&r);
      for (int x = begin; x < end; x++) {
        const gc_node *n = g->nodes[x];
        int in[64];
        for (int k = 0; k < n->n_in && k < 64; k++) in[k] = gc_rebuild_id(&r, n->in[k]);
        clone[x - begin] = gc_rebuild_emit(&r, x, n->op, in, n->n_in, &n->attrs, &n->type);
        if (clone[x - begin] >= 0) r.em.g->nodes[clone[x - begin]]->kernel = kernel;
        gc_rebuild_map(&r, x, clone[x - begin]);   /* later readers read the copy */
      }
      free(clone);
    }
    gc_rebuild_copy(&r, i);   /* the original kernel comes first: its copy follows it */
  }
  gc_graph *out = gc_rebuild_finish(&r);
  if (!out) return NULL;
  /* kernels numbered again in node order, so @kN is the N-th to run */
  int next = 0;
  for (int i = 0; i < out->n_nodes; i++) {
    gc_node *n = out->nodes[i];
    if (!n->kernel) continue;
    int old = n->kernel;   /* a run of old's nodes: the next kernel */
    next++;
    for (; i < out->n_nodes && out->nodes[i]->kernel == old; i++) out->nodes[i]->kernel = next;
    i--;
  }
  out->n_kernels = next;
  return out;
}

/* The step where the most arena bytes are alive (as plan placed them in
 * pl, g planned), and each stored value's last reading step (in dies). */
static int peak_step(const gc_graph *g, const gc_graph *pl, const steps *s, const gc_uses *u, int *dies) {
  int64_t *live = calloc((size_t)s->n_steps + 2, sizeof *live);
  if (!live) return -1;
  for (int i = 0; i < g->n_nodes; i++) {
    dies[i] = -1;
    if (s->step[i] < 0) continue;
    int last = s->step[i];
    bool leaves = gc_uses_is_bound(u, i);
    const int *rd = gc_uses_readers(u, i);
    for (int k = 0; k < gc_uses_count(u, i); k++) {
      int st = s->step[rd[k]];
      if (st != s->step[i]) leaves = true;
      if (st > last) last = st;
    }
    if (!leaves) continue;
    if (gc_uses_is_bound(u, i)) last = s->n_steps;
    dies[i] = last;
    if (!own_bytes(pl, i)) continue;
    for (int t = s->step[i]; t <= last && t <= s->n_steps; t++) live[t] += gc_node_bytes(g->nodes[i]);
  }
  int best = 0;
  for (int t = 1; t < s->n_steps; t++)
    if (live[t] > live[best]) best = t;
  free(live);
  return best;
}

/* Arena bytes alive at step t. */
static int64_t live_at(const gc_graph *g, const gc_graph *pl, const steps *s, const gc_uses *u, int t) {
  int *dies = malloc(sizeof(int) * ((size_t)g->n_nodes + 1));
  if (!dies) return -1;
  int64_t live = 0;
  peak_step(g, pl, s, u, dies);
  for (int i = 0; i < g->n_nodes; i++)
    if (dies[i] >= 0 && s->step[i] <= t && dies[i] >= t && own_bytes(pl, i)) live += gc_node_bytes(g->nodes[i]);
  free(dies);
  return live;
}

gc_graph *gc_pass_remat(gc_graph *g, gc_pass_ctx *ctx) {
  int64_t budget = ctx->opts->mem_budget;
  if (budget <= 0) return g;
  gc_graph *cur = gc_graph_clone(g);
  if (!cur) return gc_diag_set(ctx->d, "out of memory"), NULL;
  int64_t peak = planned_peak(cur, ctx, ctx->d), start = peak;
  int plateau = 0;
  for (int round = 0; peak >= 0 && peak > budget && round < 1000; round++) {
    int n = cur->n_nodes;
    steps s = {n, malloc(sizeof(int) * ((size_t)n + 1)), malloc(sizeof(int) * ((size_t)n + 1)), 0};
    int *dies = malloc(sizeof(int) * ((size_t)n + 1));
    gc_uses u;
    bool improved = false;
    gc_graph *pl = planned(cur, ctx, ctx->d);
    if (pl && s.step && s.first && dies && gc_uses_init(&u, cur, ctx->d) == 0) {
      number(cur, &s);
      int t = peak_step(cur, pl, &s, &u, dies);
      if (getenv("GC_DEBUG_REMAT")) {
        fprintf(ctx->out, "remat: peak at step %d of %d\n", t, s.n_steps);
        for (int i = 0; i < n; i++)
          if (dies[i] >= 0 && s.step[i] <= t && dies[i] >= t && gc_node_bytes(cur->nodes[i]) > 20000 && own_bytes(pl, i))
            fprintf(ctx->out, "  live %%%d %s %s %lld bytes, steps %d..%d%s\n", i, gc_op_name(cur->nodes[i]->op),
                    cur->nodes[i]->label ? cur->nodes[i]->label : "", (long long)gc_node_bytes(cur->nodes[i]), s.step[i],
                    dies[i], recomputable(cur, &s, s.step[i]) ? "" : " (not recomputable)");
      }
      /* candidates: alive across t, computed by a cheap kernel, biggest first */
      for (int tries = 0; tries < 32 && !improved; tries++) {
        int best = -1;
        for (int i = 0; i < n; i++) {
          if (dies[i] < 0 || s.step[i] >= t || dies[i] <= t || dies[i] >= s.n_steps || gc_uses_is_bound(&u, i))
            continue;
          if (!recomputable(cur, &s, s.step[i])) continue;
          /* the most bytes saved per unit of work */
          if (best < 0 || gc_node_bytes(cur->nodes[i]) * cost(cur, &s, s.step[best]) >
                              gc_node_bytes(cur->nodes[best]) * cost(cur, &s, s.step[i]))
            best = i;
        }
        if (best < 0) break;
        /* the first step after t reading it */
        int at = s.n_steps;
        const int *rd = gc_uses_readers(&u, best);
        for (int k = 0; k < gc_uses_count(&u, best); k++)
          if (s.step[rd[k]] > t && s.step[rd[k]] < at) at = s.step[rd[k]];
        int from = s.step[best];
        dies[best] = -1;   /* tried */
        gc_graph *next = at < s.n_steps ? recompute(cur, &s, from, at, ctx->d) : NULL;
        int64_t np = next ? planned_peak(next, ctx, ctx->d) : -1;
        if (getenv("GC_DEBUG_REMAT"))
          fprintf(ctx->out, "remat? %%%d %s %lld bytes, step %d -> %d (peak step %d): peak %lld -> %lld\n", best,
                  gc_op_name(cur->nodes[best]->op), (long long)gc_node_bytes(cur->nodes[best]), from, at, t, (long long)peak,
                  (long long)np);
        /* accepted when the peak falls, or stays while the bytes alive at its
         * step fall (a plateau of many values needs several copies) */
        bool better = next && np >= 0 && np < peak;
        if (next && np >= 0 && np == peak && plateau < 64) {
          int64_t before = live_at(cur, pl, &s, &u, t), after = -1;
          gc_graph *pn = planned(next, ctx, ctx->d);
          if (pn) {
            steps s2 = {next->n_nodes, malloc(sizeof(int) * ((size_t)next->n_nodes + 1)),
                        malloc(sizeof(int) * ((size_t)next->n_nodes + 1)), 0};
            gc_uses u2;
            if (s2.step && s2.first && gc_uses_init(&u2, next, ctx->d) == 0) {
              number(next, &s2);
              after = live_at(next, pn, &s2, &u2, t);
              gc_uses_free(&u2);
            }
            free(s2.step), free(s2.first);
            gc_graph_free(pn);
          }
          better = after >= 0 && after < before;
          if (better) plateau++;
        }
        if (better) {
          if (np < peak) plateau = 0;
          const gc_node *v = cur->nodes[best];
          fprintf(ctx->out, "remat: recompute %%%d (%s%s%s, %lld bytes) before k%d: planned peak %lld -> %lld bytes\n",
                  best, gc_op_name(v->op), v->label ? " " : "", v->label ? v->label : "", (long long)gc_node_bytes(v),
                  cur->nodes[s.first[at]]->kernel - 1, (long long)peak, (long long)np);
          gc_graph_free(cur);
          cur = next;
          peak = np;
          improved = true;
        } else {
          gc_graph_free(next);
        }
      }
      gc_uses_free(&u);
    }
    free(s.step), free(s.first), free(dies);
    gc_graph_free(pl);
    if (!improved) break;
  }
  if (peak < 0) return gc_graph_free(cur), NULL;
  if (peak > budget) {
    gc_graph_free(cur);
    gc_diag_set(ctx->d, "no schedule fits the memory budget of %lld bytes: the lowest planned peak reached is %lld bytes (from %lld)",
                (long long)budget, (long long)peak, (long long)start);
    return NULL;
  }
  return cur;
}
