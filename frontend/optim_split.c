/* The training step in two graphs (see gc_optim_append_grads and
 * gc_optim_step_graph in optim.h): the gradients of one micro-batch, and
 * the optimizer step over gradients summed across micro-batches (by the
 * caller) and across ranks (an all_reduce in the graph). */
#include "autodiff/autodiff.h"
#include "frontend/builder_internal.h"
#include "frontend/optim.h"
#include "frontend/optim_internal.h"

#include <stdio.h>
#include <stdlib.h>

static const char *param_name(const gc_graph *g, int id) { return g->nodes[id]->attrs.name.name; }

static int add_grads(gc_graph *g, int loss, const char *scale, int *params, int *grads, gc_diag *d) {
  gc_type t = g->nodes[loss]->type;
  int s = gc_graph_add(g, GC_OP_INPUT, NULL, 0, &(gc_attrs){.name = {.name = gc_arena_strdup(g->arena, scale)}}, &t, d);
  if (s < 0) return -1;
  int scaled = gc_graph_add(g, GC_OP_MUL, (int[]){loss, s}, 2, NULL, NULL, d);
  if (scaled < 0) return -1;
  gc_graph_set_label(g, scaled, "loss.scaled");
  int n = gc_optim_collect_params(g, params);
  if (n == 0) return gc_diag_set(d, "optim: the graph has no float params to train");
  if (gc_grad(g, scaled, params, n, grads, d) < 0) return -1;
  int kept = 0;
  for (int i = 0; i < n; i++) {
    if (gc_optim_unreached(g, grads[i])) continue;
    char name[512];
    snprintf(name, sizeof name, "grad.%s", param_name(g, params[i]));
    if (gc_graph_add_output(g, gc_arena_strdup(g->arena, name), grads[i], d)) return -1;
    kept++;
  }
  if (kept == 0) return gc_diag_set(d, "optim: the loss does not depend on any param");
  return gc_verify(g, d);
}

int gc_optim_append_grads(gc_graph *g, const char *loss, const char *scale, gc_diag *d) {
  int node = g ? gc_graph_find_output(g, loss ? loss : "") : -1;
  if (node < 0) return gc_diag_set(d, "optim: the graph has no output \"%s\"", loss ? loss : "");
  const gc_type *t = &g->nodes[node]->type;
  if (!gc_dtype_is_float(t->dtype) || t->rank != 0) return gc_diag_set(d, "optim: the loss must be a float scalar");
  int *params = malloc((size_t)g->n_nodes * sizeof *params), *grads = malloc((size_t)g->n_nodes * sizeof *grads);
  int rc = params && grads ? add_grads(g, node, scale, params, grads, d) : gc_diag_set(d, "optim: out of memory");
  free(params), free(grads);
  return rc;
}

/* Every param of `from` into `to`, in order; of the trainable ones with a
 * gradient output, params[k] and grads[k] (the input "grad.<param>"), their
 * count in *n. */
static int copy_params(gc_graph *to, const gc_graph *from, int *params, int *grads, int *n, gc_diag *d) {
  *n = 0;
  for (int i = 0; i < from->n_nodes; i++) {
    const gc_node *src = from->nodes[i];
    if (src->op != GC_OP_PARAM) continue;
    gc_attrs a = {.name = {.name = gc_arena_strdup(to->arena, param_name(from, i))}};
    int p = gc_graph_add(to, GC_OP_PARAM, NULL, 0, &a, &src->type, d);
    if (p < 0) return -1;
    char name[512];
    snprintf(name, sizeof name, "grad.%s", a.name.name);
    if (gc_graph_find_output(from, name) < 0) continue;
    gc_attrs in = {.name = {.name = gc_arena_strdup(to->arena, name)}};
    int g = gc_graph_add(to, GC_OP_INPUT, NULL, 0, &in, &src->type, d);
    if (g < 0) return -1;
    params[*n] = p;
    grads[(*n)++] = g;
  }
  if (*n == 0) return gc_diag_set(d, "optim: the gradient graph has no \"grad.*\" outputs");
  return 0;
}

/* grads[s..e) summed over the ranks by one all_reduce: alone, of the input
 * itself; else of their concatenation (flattened), sliced back.  Each
 * element is summed as alone, in rank order: the same sums bitwise. */
static void reduce_bucket(gc_builder *b, const int *params, int *grads, int s, int e) {
  gc_graph *g = gc_builder_graph(b);
  char label[600];
  if (e - s == 1) {
    gc_val x = gc_val_of(grads[s]);
    if (gc_b_skip(b, "all_reduce", 1, &x)) return;
    gc_val r = gc_b_emit(b, "all_reduce", GC_OP_ALL_REDUCE, 1, &x, NULL, NULL);
    snprintf(label, sizeof label, "grad.%s.all_reduce", param_name(g, params[s]));
    if (gc_val_node(r) >= 0) gc_graph_set_label(g, gc_val_node(r), gc_arena_strdup(g->arena, label));
    grads[s] = gc_val_node(r);
    return;
  }
  gc_val *flat = malloc((size_t)(e - s) * sizeof *flat);
  if (!flat) {
    gc_builder_fail(b, "optim: out of memory");
    return;
  }
  for (int k = s; k < e; k++) flat[k - s] = gc_flatten(b, gc_val_of(grads[k]));
  gc_val all = gc_concat(b, e - s, flat, 0);
  free(flat);
  if (gc_b_skip(b, "all_reduce", 1, &all)) return;
  gc_val r = gc_b_emit(b, "all_reduce", GC_OP_ALL_REDUCE, 1, &all, NULL, NULL);
  snprintf(label, sizeof label, "grad.bucket.%s..%s.all_reduce", param_name(g, params[s]), param_name(g, params[e - 1]));
  if (gc_val_node(r) >= 0) gc_graph_set_label(g, gc_val_node(r), gc_arena_strdup(g->arena, label));
  int64_t at = 0;
  for (int k = s; k < e; k++) {
    const gc_type *t = &g->nodes[grads[k]]->type;
    int64_t n = gc_type_numel_unchecked(t);
    grads[k] = gc_val_node(gc_reshape(b, gc_slice(b, r, 0, at, at + n, 1), t->rank, t->dims));
    at += n;
  }
}

/* The gradients all-reduced in buckets of consecutive ones of at most
 * c->bucket_bytes (one gradient alone when larger; 0: one each). */
static void reduce_grads(gc_builder *b, const gc_optim_config *c, const int *params, int *grads, int n) {
  gc_graph *g = gc_builder_graph(b);
  int s = 0;
  int64_t bytes = 0;
  for (int k = 0; k < n; k++) {
    const gc_type *t = &g->nodes[grads[k]]->type;
    int64_t kb = gc_type_numel_unchecked(t) * (int64_t)gc_dtype_size(t->dtype);
    if (k > s && bytes + kb > c->bucket_bytes) reduce_bucket(b, params, grads, s, k), s = k, bytes = 0;
    bytes += kb;
  }
  if (n > s) reduce_bucket(b, params, grads, s, n);
}

gc_graph *gc_optim_step_graph(const gc_graph *grads, const gc_optim_config *c, gc_diag *d) {
  int loss = grads ? gc_graph_find_output(grads, "loss") : -1;
  gc_dtype dt = loss >= 0 ? grads->nodes[loss]->type.dtype : GC_F32;
  gc_graph *g = grads ? gc_graph_new("step") : NULL;
  int cap = grads ? grads->n_nodes + 1 : 1;
  int *params = malloc((size_t)cap * sizeof *params), *ids = malloc((size_t)cap * sizeof *ids), n = 0;
  int rc = g && params && ids ? copy_params(g, grads, params, ids, &n, d) : gc_diag_set(d, "optim: out of memory");
  if (rc == 0) {
    gc_builder *b = gc_builder_wrap(g, dt);
    if (!b) rc = gc_diag_set(d, "optim: out of memory");
    else reduce_grads(b, c, params, ids, n), gc_optim_emit_step(b, c, n, params, ids), rc = gc_optim_release_graph(b, d);
  }
  free(params), free(ids);
  if (rc) gc_graph_free(g), g = NULL;
  return g;
}
