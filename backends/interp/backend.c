/* The interp backend: a program's graph run node by node with the reference
 * kernels, every value in memory allocated at compile time.
 *
 * Compile gives each node a tensor view: params and inputs view their
 * program slots; a stored value is where the plan pass placed it (its
 * offset in the planned arena, or its param's slot: gc_compile always runs
 * plan); the values a kernel keeps to itself (not stored) lie one after
 * another in a scratch that each kernel uses again, and sources outside
 * kernels (constants, a param an update writes elsewhere) each have bytes of
 * their own.  A run zeroes each result, runs the kernel, then copies
 * outputs into their slots and updates into their params' slots.  Nothing
 * is allocated per run. */
#include "backends/interp/kernels.h"
#include "backends/runtime/call.h"
#include "base/alloc.h"
#include "backends/runtime/program.h"
#include "ir/live.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  gc_tensor *values;     /* one view per node */
  bool *in_slot;         /* values[i] is its param/input slot */
  int *into;             /* values[i] is written into this param slot (plan), -1 */
  char *planned_arena;   /* the plan pass's arena, when the graph has a plan */
  char *arena;
  size_t arena_bytes;
  void *scratch;
  gc_call_site **call_sites;   /* per node: a call's, prepared once; NULL otherwise */
  int n_nodes;
} interp_state;

/* ---- where values live ------------------------------------------------- */

static size_t value_bytes(const gc_node *n) {
  size_t b = (size_t)gc_node_bytes(n);
  return (b + 63) & ~(size_t)63;
}

/* A param or input read in place from its slot.  A param that an update
 * writes elsewhere ("update a = %b") is copied instead, so updates applied
 * in turn never read a slot another update already wrote. */
static bool in_slot(const gc_program *p, int node) {
  if (p->slot_of_node[node] < 0) return false;
  for (int i = 0; i < p->n_updates; i++)
    if (p->graph->updates[i].node == node) return false;
  return true;
}

/* Where the values without a place in the plan go, in the interpreter's
 * own memory: offset[i] (SIZE_MAX for values with a place or a slot).
 * Sources outside kernels first, each its own bytes; then, from *top on,
 * each step's own values one after another (steps run one at a time, so
 * each starts again at *top).  A stored value without a place is an error:
 * the graph must be planned. */
static int place_own(gc_program *p, size_t *offset, size_t *top, gc_diag *d) {
  const gc_graph *g = p->graph;
  int n = g->n_nodes, rc = 0;
  gc_uses u;
  gc_live l;
  if (gc_uses_init(&u, g, d)) return -1;
  if (gc_live_init(&l, g, &u, d)) return gc_uses_free(&u), -1;
  size_t sources = 0, step_top = 0, at = 0;
  for (int i = 0; i < n && rc == 0; i++) {
    const gc_node *nd = g->nodes[i];
    offset[i] = SIZE_MAX;
    if (l.stored[i] && !nd->planned)
      rc = gc_diag_set(d, "node %%%d is stored but has no place: the graph has no plan (gc_compile runs plan)", i);
    if (nd->planned || in_slot(p, i) || l.step[i] >= 0) continue;
    offset[i] = sources;
    sources += value_bytes(nd);
  }
  for (int i = 0; i < n && rc == 0; i++) {
    const gc_node *nd = g->nodes[i];
    if (l.step[i] >= 0 && (i == 0 || l.step[i - 1] != l.step[i])) at = sources;
    if (l.step[i] < 0 || nd->planned) continue;
    offset[i] = at;
    at += value_bytes(nd);
    if (at > step_top) step_top = at;
  }
  *top = step_top > sources ? step_top : sources;
  gc_live_free(&l);
  gc_uses_free(&u);
  return rc;
}

/* ---- the backend ------------------------------------------------------- */

static void release(void *state) {
  interp_state *s = state;
  if (!s) return;
  gc_free(s->arena);
  gc_free(s->planned_arena);
  gc_free(s->scratch);
  for (int i = 0; s->call_sites && i < s->n_nodes; i++) gc_call_site_free(s->call_sites[i]);
  free(s->call_sites);
  free(s->values);
  free(s->in_slot);
  free(s->into);
  free(s);
}

static int compile(gc_program *p, const gc_compile_options *o, void **state, gc_diag *d) {
  (void)o;
  const gc_graph *g = p->graph;
  int n = g->n_nodes;
  interp_state *s = calloc(1, sizeof *s);
  size_t *offset = malloc(sizeof *offset * (size_t)(n + 1));
  if (!s || !offset || !(s->values = calloc((size_t)n + 1, sizeof *s->values)) ||
      !(s->in_slot = calloc((size_t)n + 1, sizeof *s->in_slot)) || !(s->into = malloc(sizeof *s->into * ((size_t)n + 1)))) {
    free(offset), release(s);
    return gc_diag_set(d, "out of memory");
  }
  *state = s;
  s->n_nodes = n;
  if (!(s->call_sites = calloc((size_t)n + 1, sizeof *s->call_sites))) return free(offset), gc_diag_set(d, "out of memory");
  for (int i = 0; i < n; i++) {
    const gc_node *nd = g->nodes[i];
    if (nd->op != GC_OP_CALL) continue;
    const gc_type *types[INTERP_MAX_OPERANDS];
    for (int k = 0; k < nd->n_in && k < INTERP_MAX_OPERANDS; k++) types[k] = &g->nodes[nd->in[k]]->type;
    if (!(s->call_sites[i] = gc_call_site_new(nd, i, types, d))) return free(offset), -1;
  }
  size_t scratch = 0;
  for (int i = 0; i < n; i++)
    if (interp_scratch_bytes(g, i) > scratch) scratch = interp_scratch_bytes(g, i);
  int rc = place_own(p, offset, &s->arena_bytes, d);
  size_t planned_bytes = 0;
  for (int i = 0; i < n; i++) {
    const gc_node *nd = g->nodes[i];
    if (nd->planned && !nd->into && (size_t)nd->offset + value_bytes(nd) > planned_bytes)
      planned_bytes = (size_t)nd->offset + value_bytes(nd);
  }
  if (rc == 0 && (!(s->arena = gc_alloc(s->arena_bytes)) || !(s->scratch = gc_alloc(scratch)) ||
                  !(s->planned_arena = gc_alloc(planned_bytes))))
    rc = gc_diag_set(d, "out of memory for the interpreter's %zu-byte arena", s->arena_bytes + planned_bytes);
  for (int i = 0; rc == 0 && i < n; i++) {
    const gc_node *nd = g->nodes[i];
    s->values[i].type = nd->type;
    s->in_slot[i] = in_slot(p, i);
    s->into[i] = -1;
    if (nd->into) {
      int param = gc_graph_find_param(g, nd->into);
      if (param < 0) rc = gc_diag_set(d, "node %%%d: into=\"%s\" names no param", i, nd->into);
      else s->into[i] = p->slot_of_node[param];
    }
    if (s->in_slot[i] || nd->into) s->values[i].data = NULL;   /* set per run */
    else if (nd->planned) s->values[i].data = s->planned_arena + nd->offset;
    else s->values[i].data = offset[i] == SIZE_MAX ? s->arena : s->arena + offset[i];
  }
  p->stats.work_bytes = s->arena_bytes + planned_bytes;
  free(offset);
  return rc;
}

static void copy_value(gc_tensor *to, const gc_tensor *from) {
  if (to->data != from->data) memcpy(to->data, from->data, gc_tensor_bytes(from));
}

/* --check-nans: each node's value scanned (backends/runtime/nan_check.h) */
static void *value_now(void *state, int node) { return ((interp_state *)state)->values[node].data; }

static int run(gc_program *p, void *state, gc_diag *d) {
  interp_state *s = state;
  const gc_graph *g = p->graph;
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    gc_slot *slot = gc_program_source_slot(p, i);
    if (s->in_slot[i]) {   /* read in place */
      s->values[i].data = slot->tensor.data;
      continue;
    }
    if (s->into[i] >= 0) s->values[i].data = p->params[s->into[i]].tensor.data;
    interp_call c = {.node = n, .id = i, .out = &s->values[i], .scratch = s->scratch, .comm = p->comm,
                     .call_site = s->call_sites[i], .d = d};
    if (slot) c.source = &slot->tensor;
    bool in_place = false;   /* planned over an operand: kernels write every element */
    for (int k = 0; k < n->n_in && k < INTERP_MAX_OPERANDS; k++) {
      c.in[k] = &s->values[n->in[k]];
      in_place = in_place || c.in[k]->data == c.out->data;
    }
    if (!in_place) memset(c.out->data, 0, gc_tensor_bytes(c.out));
    if (interp_run_node(&c)) return -1;
    if (p->nan_check && gc_nan_check_kernel(p, -1, i, i, value_now, s, d)) return -1;
  }
  for (int i = 0; i < p->n_outputs; i++) copy_value(&p->outputs[i].tensor, &s->values[p->outputs[i].node]);
  for (int i = 0; i < p->n_updates; i++)
    copy_value(&p->params[p->update_param[i]].tensor, &s->values[g->updates[i].node]);
  return 0;
}

const gc_backend gc_backend_interp = {
    .name = "interp",
    .description = "the reference interpreter: every op, every dtype, node by node",
    .compile = compile,
    .run = run,
    .release = release,
};
