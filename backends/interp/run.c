/* The interpreter's node walk: check the caller's params and inputs, run each
 * node's kernel in order, free values after their last use, then hand out
 * outputs and apply updates. */
#include "backends/interp/kernels.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static interp_kernel *const kernels[GC_OP_COUNT] = {
#define GC_OP(ID, name, arity, attrs, rule) [GC_OP_##ID] = interp_kernel_##name,
#include "ir/ops.def"
#undef GC_OP
};

bool gc_interp_covers_all_ops(void) {
  for (int op = 0; op < GC_OP_COUNT; op++)
    if (!kernels[op]) return false;
  return true;
}

int interp_node_error(const interp_call *c, const char *fmt, ...) {
  char msg[900];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (c->node->label)
    return gc_diag_set(c->d, "%s %%%d (\"%s\"): %s", gc_op_name(c->node->op), c->id,
                       c->node->label, msg);
  return gc_diag_set(c->d, "%s %%%d: %s", gc_op_name(c->node->op), c->id, msg);
}

/* ---- params and inputs ---- */

static bool is_source(const gc_node *n) { return n->op == GC_OP_INPUT || n->op == GC_OP_PARAM; }

/* The caller's tensor for a param/input node, checked against its type. */
static const gc_tensor *find_source(const gc_node *n, const gc_tensor_map *params,
                                    const gc_tensor_map *inputs, gc_diag *d) {
  const char *kind = n->op == GC_OP_PARAM ? "param" : "input";
  const gc_tensor_map *map = n->op == GC_OP_PARAM ? params : inputs;
  const gc_tensor *t = map ? gc_tensor_map_get(map, n->attrs.name.name) : NULL;
  if (!t) {
    gc_diag_set(d, "%s \"%s\" is missing", kind, n->attrs.name.name);
    return NULL;
  }
  if (!gc_type_equal(&t->type, &n->type)) {
    char want[GC_TYPE_STR_MAX], got[GC_TYPE_STR_MAX];
    gc_diag_set(d, "%s \"%s\": expected %s, got %s", kind, n->attrs.name.name,
                gc_type_str(&n->type, want, sizeof want), gc_type_str(&t->type, got, sizeof got));
    return NULL;
  }
  return t;
}

static int check_sources(const gc_graph *g, const gc_tensor_map *params,
                         const gc_tensor_map *inputs, gc_diag *d) {
  for (int i = 0; i < g->n_nodes; i++)
    if (is_source(g->nodes[i]) && !find_source(g->nodes[i], params, inputs, d)) return -1;
  return 0;
}

/* ---- the walk ---- */

typedef struct {
  const gc_graph *g;
  const gc_tensor_map *params, *inputs;
  gc_tensor **values;
  bool *borrowed;   /* values[i] is the caller's param/input tensor (run only) */
  int *last_use;    /* NULL: keep every value */
  gc_diag *d;
} walk;

static void release(walk *w, int id) {
  if (w->values[id] && !(w->borrowed && w->borrowed[id])) gc_tensor_free(w->values[id]);
  w->values[id] = NULL;
}

static void release_all(walk *w) {
  for (int i = 0; i < w->g->n_nodes; i++) release(w, i);
}

static int eval_node(walk *w, int id) {
  const gc_node *n = w->g->nodes[id];
  interp_call c;
  memset(&c, 0, sizeof c);
  c.node = n;
  c.id = id;
  c.d = w->d;
  if (is_source(n)) {
    c.source = find_source(n, w->params, w->inputs, w->d);
    if (!c.source) return -1;
    if (w->borrowed) {
      w->values[id] = (gc_tensor *)c.source;
      w->borrowed[id] = true;
      return 0;
    }
  }
  if (n->n_in > INTERP_MAX_OPERANDS) return interp_node_error(&c, "too many operands");
  for (int k = 0; k < n->n_in; k++) c.in[k] = w->values[n->in[k]];
  c.out = gc_tensor_new(&n->type);
  if (!c.out) return interp_node_error(&c, "out of memory");
  w->values[id] = c.out;
  return kernels[n->op](&c);
}

/* Free the operands of `id` whose last use it is, and `id` itself if unused. */
static void free_dead(walk *w, int id) {
  const gc_node *n = w->g->nodes[id];
  for (int k = 0; k < n->n_in; k++)
    if (w->last_use[n->in[k]] == id) release(w, n->in[k]);
  if (w->last_use[id] == id) release(w, id);
}

static int eval_all(walk *w) {
  memset(w->values, 0, sizeof *w->values * (size_t)w->g->n_nodes);
  if (check_sources(w->g, w->params, w->inputs, w->d)) return -1;
  for (int i = 0; i < w->g->n_nodes; i++) {
    if (eval_node(w, i)) {
      release_all(w);
      return -1;
    }
    if (w->last_use) free_dead(w, i);
  }
  return 0;
}

int gc_interp_eval(const gc_graph *g, const gc_tensor_map *params, const gc_tensor_map *inputs,
                   gc_tensor **values, gc_diag *d) {
  walk w = {g, params, inputs, values, NULL, NULL, d};
  return eval_all(&w);
}

void gc_interp_values_free(const gc_graph *g, gc_tensor **values) {
  if (!values) return;
  for (int i = 0; i < g->n_nodes; i++) {
    gc_tensor_free(values[i]);
    values[i] = NULL;
  }
}

/* ---- gc_interp_run ---- */

/* last_use[i]: the last node reading value i; n_nodes for outputs/updates;
 * i itself when nothing reads it. */
static void compute_last_use(const gc_graph *g, int *last_use) {
  for (int i = 0; i < g->n_nodes; i++) {
    last_use[i] = i;
    const gc_node *n = g->nodes[i];
    for (int k = 0; k < n->n_in; k++) last_use[n->in[k]] = i;
  }
  for (int i = 0; i < g->n_outputs; i++) last_use[g->outputs[i].node] = g->n_nodes;
  for (int i = 0; i < g->n_updates; i++) last_use[g->updates[i].node] = g->n_nodes;
}

/* The tensor for one output/update binding: the value itself when this is its
 * last binding and we own it, else a copy.  `uses` counts bindings left. */
static gc_tensor *take_bound(walk *w, int node, int *uses) {
  uses[node]--;
  if (uses[node] == 0 && !w->borrowed[node]) {
    gc_tensor *t = w->values[node];
    w->values[node] = NULL;
    return t;
  }
  return gc_tensor_clone(w->values[node]);
}

/* Collect every output then every update into `got` (n_outputs + n_updates). */
static int collect_bound(walk *w, gc_tensor **got) {
  const gc_graph *g = w->g;
  int nb = g->n_outputs + g->n_updates;
  int *uses = calloc((size_t)g->n_nodes + 1, sizeof *uses);
  if (!uses) return gc_diag_set(w->d, "out of memory");
  for (int i = 0; i < g->n_outputs; i++) uses[g->outputs[i].node]++;
  for (int i = 0; i < g->n_updates; i++) uses[g->updates[i].node]++;
  int rc = 0;
  for (int b = 0; b < nb; b++) {
    int node = b < g->n_outputs ? g->outputs[b].node : g->updates[b - g->n_outputs].node;
    got[b] = take_bound(w, node, uses);
    if (!got[b]) rc = gc_diag_set(w->d, "out of memory copying the value of %%%d", node);
  }
  free(uses);
  return rc;
}

int gc_interp_run(const gc_graph *g, gc_tensor_map *params, const gc_tensor_map *inputs,
                  gc_tensor_map *outputs, gc_diag *d) {
  int n = g->n_nodes, nb = g->n_outputs + g->n_updates;
  gc_tensor **values = calloc((size_t)n + 1, sizeof *values);
  bool *borrowed = calloc((size_t)n + 1, sizeof *borrowed);
  int *last_use = calloc((size_t)n + 1, sizeof *last_use);
  gc_tensor **got = calloc((size_t)nb + 1, sizeof *got);
  int rc = -1;
  if (!values || !borrowed || !last_use || !got) {
    gc_diag_set(d, "out of memory");
    goto done;
  }
  compute_last_use(g, last_use);
  walk w = {g, params, inputs, values, borrowed, last_use, d};
  if (eval_all(&w)) goto done;
  rc = collect_bound(&w, got);
  release_all(&w);   /* before updates replace the borrowed param tensors */
  if (rc) goto done;
  for (int i = 0; i < g->n_outputs; i++) {
    gc_tensor_map_put(outputs, g->outputs[i].name, got[i]);
    got[i] = NULL;
  }
  for (int i = 0; i < g->n_updates; i++) {
    gc_tensor_map_put(params, g->updates[i].name, got[g->n_outputs + i]);
    got[g->n_outputs + i] = NULL;
  }
done:
  for (int i = 0; got && i < nb; i++) gc_tensor_free(got[i]);
  free(got);
  free(last_use);
  free(borrowed);
  free(values);
  return rc;
}
