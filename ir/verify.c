/* The verifier: every node against its op's rule, source names unique.  A
 * node's error carries the node's position, so that for a parsed graph it
 * points at the statement. */
#include "ir.h"
#include "ir/live.h"

#include <stdlib.h>

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
      gc_diag_set(d, "%s %s must stand outside every kernel", strcmp(gc_op_name(n->op), "input") == 0 ? "an" : "a", gc_op_name(n->op));
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

static int64_t bytes_of(const gc_node *n) {
  return gc_type_numel_unchecked(&n->type) * (int64_t)gc_dtype_size(n->type.dtype);
}

/* "offset=N" or "into=\"P\"": a planned node's place, for messages. */
static const char *place_str(const gc_node *n, char *buf, size_t size) {
  if (n->into) snprintf(buf, size, "into=\"%s\"", n->into);
  else snprintf(buf, size, "offset=%lld", (long long)n->offset);
  return buf;
}

/* Each node's place on its own: exactly the stored values have one (what
 * a backend runs by), an offset is aligned to the element and ends within
 * the offsets, a value written into its param's buffer in place is
 * written after every read of the param (gc_live_into_conflict). */
static int verify_places(const gc_graph *g, const gc_uses *u, const gc_live *l, gc_diag *d) {
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    char where[300];
    if (n->planned && !l->stored[i])
      gc_diag_set(d, "%s: only a stored value (one read after its kernel, or bound) has a place, and this one is not",
                  place_str(n, where, sizeof where));
    else if (!n->planned && l->stored[i])
      gc_diag_set(d, "the value is stored (read after its kernel or bound) but has no place: offset= or into= is missing");
    else if (n->planned && !n->into && n->offset % (int64_t)gc_dtype_size(n->type.dtype))
      gc_diag_set(d, "offset=%lld is not a multiple of the element size (%zu bytes)", (long long)n->offset,
                  gc_dtype_size(n->type.dtype));
    else if (n->planned && !n->into && n->offset > INT64_MAX - bytes_of(n))
      gc_diag_set(d, "offset=%lld: its %lld bytes would end past the largest offset", (long long)n->offset,
                  (long long)bytes_of(n));
    else if (n->into) {
      int reader, param = gc_graph_find_param(g, n->into);
      const char *why = param < 0 ? "no param has that name" : gc_live_into_conflict(l, u, g, i, param, &reader);
      if (!why) continue;
      if (reader >= 0)
        gc_diag_set(d, "into=\"%s\": %%%d (%s) %s", n->into, reader, gc_op_name(g->nodes[reader]->op), why);
      else
        gc_diag_set(d, "into=\"%s\": %s", n->into, why);
    } else
      continue;
    return node_error(g, i, d);
  }
  return 0;
}

/* The places plan gave (offset=, into=): each on its own (verify_places),
 * and stored values alive at the same step have disjoint bytes, except a
 * result written over an operand of its elementwise kernel that dies
 * there (same offset, same size). */
static int verify_plan(const gc_graph *g, gc_diag *d) {
  int n = g->n_nodes, *vals = malloc(sizeof(int) * ((size_t)n + 1)), *first = malloc(sizeof(int) * ((size_t)n + 1));
  int m = 0, rc = vals && first ? 0 : gc_diag_set(d, "out of memory");
  gc_uses u;
  gc_live l = {0};
  if (rc == 0) rc = gc_uses_init(&u, g, d);
  if (rc == 0 && (rc = gc_live_init(&l, g, &u, d))) gc_uses_free(&u);
  if (rc) {
    free(vals), free(first);
    return -1;
  }
  rc = verify_places(g, &u, &l, d);
  for (int i = 0; i < n; i++) {
    first[i] = i > 0 && l.step[i] == l.step[i - 1] ? first[i - 1] : i;
    if (g->nodes[i]->planned && !g->nodes[i]->into && l.stored[i]) vals[m++] = i;
  }
  for (int a = 0; a < m && rc == 0; a++)
    for (int b = a + 1; b < m && rc == 0; b++) {
      int x = vals[a], y = vals[b];   /* x before y */
      const gc_node *nx = g->nodes[x], *ny = g->nodes[y];
      int64_t bx = bytes_of(nx), by = bytes_of(ny);
      bool bytes = nx->offset < ny->offset + by && ny->offset < nx->offset + bx && bx > 0 && by > 0;
      bool alive = l.step[y] <= l.last[x] && l.step[x] <= l.last[y];
      if (!bytes || !alive) continue;
      bool in_place = l.last[x] == l.step[y] && nx->offset == ny->offset && bx == by &&
                      gc_live_elementwise_step(&l, g, first[y]);
      for (int k = 0; in_place && k < n; k++) in_place = l.step[k] != l.step[y] || k == y || !l.stored[k];
      if (in_place) continue;
      gc_diag_set(d, "offset=%lld: its %lld bytes overlap those of %%%d (offset=%lld, %lld bytes), which is alive at the same time",
                  (long long)ny->offset, (long long)by, x, (long long)nx->offset, (long long)bx);
      rc = node_error(g, y, d);
    }
  gc_live_free(&l);
  gc_uses_free(&u);
  free(vals), free(first);
  return rc;
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
  bool planned = false;
  for (int i = 0; i < g->n_nodes && !planned; i++) planned = g->nodes[i]->planned;
  if (planned && verify_plan(g, d)) return -1;
  return 0;
}
