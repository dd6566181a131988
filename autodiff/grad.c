/* Reverse-mode differentiation as graph rewriting: the reverse walk over the
 * forward nodes, fan-out accumulation with `add`, zero gradients for values
 * the output does not reach, and the `grad.<name>` labels.
 *
 * Only nodes on a path from a differentiated value to the output get an
 * adjoint ("active" nodes).  A node is reachable from the wrt set only
 * through float values and differentiable ops, so integer and bool values,
 * compares, argmax, iota and rand_uniform stop the gradient. */
#include "autodiff.h"
#include "vjp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_float(const gc_graph *g, int id) { return gc_dtype_is_float(g->nodes[id]->type.dtype); }

static int check_request(const gc_graph *g, int output, const int *wrt, int n_wrt, gc_diag *d) {
  char b[GC_TYPE_STR_MAX];
  if (output < 0 || output >= g->n_nodes) return gc_diag_set(d, "grad: output %%%d does not exist", output);
  const gc_type *t = &g->nodes[output]->type;
  if (!gc_dtype_is_float(t->dtype) || gc_type_numel_unchecked(t) != 1)
    return gc_diag_set(d, "grad: output %%%d must be a float scalar, got %s", output,
                       gc_type_str(t, b, sizeof b));
  for (int i = 0; i < n_wrt; i++) {
    if (wrt[i] < 0 || wrt[i] >= g->n_nodes) return gc_diag_set(d, "grad: value %%%d does not exist", wrt[i]);
    if (!is_float(g, wrt[i]))
      return gc_diag_set(d, "grad: cannot differentiate with respect to %%%d of type %s", wrt[i],
                         gc_type_str(&g->nodes[wrt[i]]->type, b, sizeof b));
  }
  return 0;
}

/* active[i]: node i depends differentiably on a wrt value and the output
 * depends on node i.  Only nodes before `output` can matter. */
static void mark_active(const gc_graph *g, int output, const int *wrt, int n_wrt, bool *active) {
  int n = output + 1;
  bool *from = calloc((size_t)n, sizeof *from), *to = calloc((size_t)n, sizeof *to);
  if (!from || !to) abort();
  for (int i = 0; i < n_wrt; i++)
    if (wrt[i] < n) from[wrt[i]] = true;
  for (int i = 0; i < n; i++) {
    const gc_node *nd = g->nodes[i];
    if (from[i] || !is_float(g, i) || !ad_vjp_of(nd->op)) continue;
    for (int k = 0; k < nd->n_in && !from[i]; k++) from[i] = from[nd->in[k]];
  }
  to[output] = true;
  for (int i = output; i >= 0; i--) {
    if (!to[i]) continue;
    for (int k = 0; k < g->nodes[i]->n_in; k++) to[g->nodes[i]->in[k]] = true;
  }
  for (int i = 0; i < n; i++) active[i] = from[i] && to[i];
  free(from);
  free(to);
}

/* Label a freshly emitted adjoint "grad.<name>".  Adjoints can be shared
 * (both operands of an add have the same one): a param's name overrides the
 * label of an intermediate value (`force`), otherwise the first label stays. */
static void label_adjoint(gc_graph *g, int adj, int first_new, const char *name, bool force) {
  if (adj < first_new || !name || (g->nodes[adj]->label && !force)) return;
  char buf[512];
  snprintf(buf, sizeof buf, "grad.%s", name);
  gc_graph_set_label(g, adj, buf);
}

static bool is_param(const gc_graph *g, int id) { return g->nodes[id]->op == GC_OP_PARAM; }

/* The name an adjoint is labelled after: a param's or input's name, or the
 * forward node's label. */
static const char *node_name(const gc_graph *g, int id) {
  const gc_node *n = g->nodes[id];
  if (gc_op_is_fed(n->op)) return n->attrs.name.name;
  return n->label;
}

/* Params' gradients are labelled grad.<param>, the first param winning when
 * two share one node. */
static void label_grads(gc_graph *g, const int *wrt, int n_wrt, const int *grads, int first_new) {
  for (int i = 0; i < n_wrt; i++) {
    bool claimed = false;
    for (int j = 0; j < i && !claimed; j++) claimed = grads[j] == grads[i] && is_param(g, wrt[j]);
    if (!claimed) label_adjoint(g, grads[i], first_new, node_name(g, wrt[i]), is_param(g, wrt[i]));
  }
}

/* Run node i's rule and add its operands' contributions to their adjoints. */
static int backprop_node(ad_ctx *c, int i, const bool *active, int *adj) {
  const gc_node *nd = c->g->nodes[i];
  bool need[64];
  int dx[64];
  for (int k = 0; k < nd->n_in; k++) {
    need[k] = active[nd->in[k]];
    dx[k] = -1;
  }
  int first = c->g->n_nodes;
  if (ad_vjp_of(nd->op)(c, i, adj[i], need, dx)) return -1;
  for (int k = 0; k < nd->n_in; k++) {
    int x = nd->in[k];
    if (!need[k] || dx[k] < 0) continue;
    adj[x] = adj[x] < 0 ? dx[k] : em_binary(c, GC_OP_ADD, adj[x], dx[k]);
  }
  /* what node i's rule emitted is part of its gradient (the NaN report's
   * "it is the gradient of"); cached constants keep their first origin */
  for (int j = first; j < c->g->n_nodes; j++)
    if (!c->g->nodes[j]->grad_of) c->g->nodes[j]->grad_of = i + 1;
  return c->failed ? -1 : 0;
}

static int reverse_walk(ad_ctx *c, int output, const bool *active, int *adj) {
  int first_new = c->g->n_nodes;
  adj[output] = em_const(c, 1.0, &c->g->nodes[output]->type);
  for (int i = output; i >= 0; i--) {
    if (!active[i] || adj[i] < 0) continue;
    if (!is_param(c->g, i)) label_adjoint(c->g, adj[i], first_new, node_name(c->g, i), false);
    if (!ad_vjp_of(c->g->nodes[i]->op)) continue;
    if (backprop_node(c, i, active, adj)) return -1;
  }
  return c->failed ? -1 : 0;
}

static int float_params(const gc_graph *g, int *out) {
  int n = 0;
  for (int i = 0; i < g->n_nodes; i++)
    if (g->nodes[i]->op == GC_OP_PARAM && is_float(g, i)) out[n++] = i;
  return n;
}

int gc_grad(gc_graph *g, int output, const int *wrt, int n_wrt, int *grads, gc_diag *d) {
  int *all = NULL;
  if (!wrt) {
    all = malloc(sizeof *all * (size_t)(g->n_nodes + 1));
    if (!all) abort();
    n_wrt = float_params(g, all);
    wrt = all;
  }
  int rc = -1;
  bool *active = NULL;
  int *adj = NULL;
  if (check_request(g, output, wrt, n_wrt, d)) goto done;
  active = calloc((size_t)output + 1, sizeof *active);
  adj = malloc(sizeof *adj * ((size_t)output + 1));
  if (!active || !adj) abort();
  for (int i = 0; i <= output; i++) adj[i] = -1;
  mark_active(g, output, wrt, n_wrt, active);
  ad_ctx c;
  ad_init(&c, g, d);
  int first_new = g->n_nodes;
  if (active[output] && reverse_walk(&c, output, active, adj)) goto done;
  for (int i = 0; i < n_wrt; i++) {
    int w = wrt[i];
    grads[i] = w <= output && adj[w] >= 0 ? adj[w] : em_const(&c, 0.0, &g->nodes[w]->type);
    if (grads[i] < 0) goto done;
  }
  label_grads(g, wrt, n_wrt, grads, first_new);
  rc = n_wrt;
done:
  free(all);
  free(active);
  free(adj);
  return rc;
}

int gc_grad_outputs(gc_graph *g, const char *output, gc_diag *d) {
  int out = gc_graph_find_output(g, output);
  if (out < 0) return gc_diag_set(d, "grad: the graph has no output \"%s\"", output);
  int *grads = malloc(sizeof *grads * (size_t)(g->n_nodes + 1));
  int *params = calloc((size_t)g->n_nodes + 1, sizeof *params);
  if (!grads || !params) abort();
  int n = float_params(g, params);
  int rc = gc_grad(g, out, params, n, grads, d) < 0 ? -1 : 0;
  for (int i = 0; rc == 0 && i < n; i++) {
    char name[512];
    snprintf(name, sizeof name, "grad.%s", g->nodes[params[i]]->attrs.name.name);
    rc = gc_graph_add_output(g, name, grads[i], d);
  }
  free(grads);
  free(params);
  return rc;
}
