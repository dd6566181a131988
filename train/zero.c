/* --zero 1 (ZeRO-1, see train.h): the optimizer state of the step program
 * holds this rank's block of every param's moments (gc_optim_step_graph
 * with shards); checkpoints hold them whole, in the layout of a run
 * without it, so a block is cut from them on load and the blocks are
 * gathered on save. */
#include "backends/runtime/comm.h"
#include "frontend/optim.h"
#include "train/train.h"

#include <stdlib.h>
#include <string.h>

bool gc_train_zero(const gc_train_opts *o) { return o->zero == 1 && gc_train_world(o) > 1; }

/* The param of g named `name`, or NULL. */
static const gc_node *param_named(const gc_graph *g, const char *name) {
  for (int i = 0; i < g->n_nodes; i++)
    if (g->nodes[i]->op == GC_OP_PARAM && strcmp(g->nodes[i]->attrs.name.name, name) == 0) return g->nodes[i];
  return NULL;
}

/* For a sharded state param of the step graph (opt.m.P, opt.v.P of a param
 * P): P's node; else NULL. */
static const gc_node *sharded_of(const gc_graph *g, const gc_node *n) {
  const char *name = n->attrs.name.name;
  if (n->op != GC_OP_PARAM || (strncmp(name, "opt.m.", 6) != 0 && strncmp(name, "opt.v.", 6) != 0)) return NULL;
  return param_named(g, name + 6);
}

int gc_train_zero_scatter(const gc_train_run *r, gc_tensor_map *m, gc_diag *d) {
  const gc_graph *g = r->train_graph;
  int rank = gc_train_rank(r->opts);
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *p = sharded_of(g, g->nodes[i]);
    const char *name = g->nodes[i]->attrs.name.name;
    gc_tensor *whole = p ? gc_tensor_map_get(m, name) : NULL;
    if (!whole || !gc_shape_equal(&whole->type, &p->type)) continue;   /* not the whole: load_params names it */
    gc_type bt = g->nodes[i]->type;
    bt.dtype = whole->type.dtype;
    gc_tensor *block = gc_tensor_new(&bt);   /* zeros: the padding */
    if (!block) return gc_diag_set(d, "out of memory for \"%s\"", name);
    int64_t len = gc_tensor_numel(block), numel = gc_tensor_numel(whole), at = rank * len;
    int64_t n = numel - at < len ? (numel - at > 0 ? numel - at : 0) : len;
    size_t es = gc_dtype_size(bt.dtype);
    if (n > 0) memcpy(block->data, (const char *)whole->data + (size_t)at * es, (size_t)n * es);
    gc_tensor_map_put(m, name, block);
  }
  return 0;
}

int gc_train_zero_gather(gc_train_run *r, bool keep, gc_diag *d) {
  const gc_graph *g = r->train_graph;
  const gc_comm *c = r->opts->comm;
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *p = sharded_of(g, g->nodes[i]);
    const char *name = g->nodes[i]->attrs.name.name;
    const gc_tensor *block = p ? gc_program_param(r->train_prog, name) : NULL;
    if (!block) continue;
    int64_t len = gc_tensor_numel(block);
    gc_type all = gc_type_make(block->type.dtype, 1, (int64_t[]){len * c->size});
    gc_tensor *gathered = gc_tensor_new(&all), *whole = NULL;
    gc_diag e = {0};
    if (!gathered) return gc_diag_set(d, "out of memory gathering \"%s\"", name);
    if (gc_comm_all_gather(c, block->data, gathered->data, len, block->type.dtype, &e)) {
      gc_tensor_free(gathered);
      return gc_diag_set(d, "gathering \"%s\" from the ranks: %s", name, e.msg);
    }
    if (keep) {
      gc_type wt = p->type;
      wt.dtype = block->type.dtype;
      if (!(whole = gc_tensor_new(&wt))) return gc_tensor_free(gathered), gc_diag_set(d, "out of memory");
      memcpy(whole->data, gathered->data, gc_tensor_bytes(whole));
      gc_tensor_map_put(&r->params, name, whole);
    }
    gc_tensor_free(gathered);
  }
  return 0;
}

int64_t gc_train_optimizer_bytes(const gc_train_run *r) {
  const gc_graph *g = r->train_graph;
  int64_t bytes = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    if (n->op == GC_OP_PARAM && strncmp(n->attrs.name.name, "opt.", 4) == 0)
      bytes += gc_type_numel_unchecked(&n->type) * (int64_t)gc_dtype_size(n->type.dtype);
  }
  return bytes;
}

bool gc_train_stop_agreed(const gc_train_run *r, bool stop, gc_diag *d, int *rc) {
  *rc = 0;
  if (!gc_train_zero(r->opts)) return stop;
  int64_t mine = stop, any = 0;
  gc_diag e = {0};
  if (gc_comm_all_reduce(r->opts->comm, &mine, &any, 1, GC_I64, false, &e))
    *rc = gc_diag_set(d, "agreeing on a stop with the other ranks: %s", e.msg);
  return any != 0;
}
