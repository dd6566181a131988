/* The verifier: every node against its op's rule, source names unique.  A
 * node's error carries the node's position, so that for a parsed graph it
 * points at the statement. */
#include "ir.h"

#include <stdio.h>
#include <string.h>

static int node_error(const gc_graph *g, int id, gc_diag *d) {
  const gc_node *n = g->nodes[id];
  char inner[sizeof d->msg];
  snprintf(inner, sizeof inner, "%s", d->msg);
  d->line = n->line;
  d->col = n->col;
  if (n->label)
    return gc_diag_set(d, "node %%%d (%s, label \"%s\"): %s", id, gc_op_name(n->op), n->label, inner);
  return gc_diag_set(d, "node %%%d (%s): %s", id, gc_op_name(n->op), inner);
}

/* The earlier input/param that uses n's name, or -1. */
static int earlier_with_name(const gc_graph *g, int id) {
  const char *name = g->nodes[id]->attrs.name.name;
  for (int j = 0; j < id; j++) {
    const gc_node *m = g->nodes[j];
    if (gc_op_is_fed(m->op) && strcmp(m->attrs.name.name, name) == 0) return j;
  }
  return -1;
}

/* Kernels (fuse) are contiguous runs of nodes with numbers 1..n_kernels;
 * params and inputs are in none; a value written `into` a param is that
 * param's update, of its type. */
static int verify_kernels(const gc_graph *g, gc_diag *d) {
  int last = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    if (n->kernel < 0 || n->kernel > g->n_kernels) {
      gc_diag_set(d, "kernel number %d is not one of the graph's %d kernels", n->kernel - 1, g->n_kernels);
      return node_error(g, i, d);
    }
    if (n->kernel && gc_op_is_fed(n->op)) {
      gc_diag_set(d, "a %s is in no kernel", gc_op_name(n->op));
      return node_error(g, i, d);
    }
    bool resumes = n->kernel && n->kernel != last && (i == 0 || g->nodes[i - 1]->kernel != n->kernel);
    if (resumes)
      for (int j = 0; j < i; j++)
        if (g->nodes[j]->kernel == n->kernel) {
          gc_diag_set(d, "kernel @k%d is split: its nodes must be consecutive", n->kernel - 1);
          return node_error(g, i, d);
        }
    if (n->kernel) last = n->kernel;
    if (n->into) {
      bool ok = false;
      for (int u = 0; u < g->n_updates; u++) ok = ok || (g->updates[u].node == i && strcmp(g->updates[u].name, n->into) == 0);
      if (!ok) {
        gc_diag_set(d, "into=\"%s\": the value is not that param's update", n->into);
        return node_error(g, i, d);
      }
    }
  }
  return 0;
}

int gc_verify(const gc_graph *g, gc_diag *d) {
  gc_diag local;
  if (!d) d = &local;
  if (verify_kernels(g, d)) return -1;
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    gc_type t;
    for (int k = 0; k < n->n_in; k++)
      if (n->in[k] < 0 || n->in[k] >= i) {
        gc_diag_set(d, "operand %d is not defined before use", k);
        return node_error(g, i, d);
      }
    if (gc_infer_type(g, n->op, n->in, n->n_in, &n->attrs, &n->type, &t, d)) return node_error(g, i, d);
    int j = gc_op_is_fed(n->op) ? earlier_with_name(g, i) : -1;
    if (j >= 0) {
      gc_diag_set(d, "the name \"%s\" is already used by node %%%d", n->attrs.name.name, j);
      return node_error(g, i, d);
    }
  }
  d->line = d->col = 0; /* outputs and updates have no position */
  for (int i = 0; i < g->n_outputs; i++)
    if (g->outputs[i].node < 0 || g->outputs[i].node >= g->n_nodes)
      return gc_diag_set(d, "output \"%s\" refers to no value", g->outputs[i].name);
  for (int i = 0; i < g->n_updates; i++) {
    int p = gc_graph_find_param(g, g->updates[i].name), v = g->updates[i].node;
    if (p < 0 || v < 0 || v >= g->n_nodes ||
        !gc_type_equal(&g->nodes[p]->type, &g->nodes[v]->type))
      return gc_diag_set(d, "update \"%s\" does not match a param of the same type", g->updates[i].name);
  }
  return 0;
}
