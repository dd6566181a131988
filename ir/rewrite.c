/* The sticky node emitter and the graph rebuild helper (see rewrite.h). */
#include "rewrite.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPERANDS 64 /* as gc_infer_type */

/* ---- sticky emitting --------------------------------------------------- */

void gc_emitter_init(gc_emitter *e, gc_graph *g, gc_diag *d) {
  e->g = g;
  e->d = d;
  e->failed = false;
}

int gc_emitter_fail(gc_emitter *e, const char *fmt, ...) {
  if (e->failed) return -1;
  e->failed = true;
  if (e->d) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->d->msg, sizeof e->d->msg, fmt, ap);
    va_end(ap);
  }
  return -1;
}

int gc_emit(gc_emitter *e, gc_op op, const int *in, int n_in, const gc_attrs *attrs,
            const gc_type *declared) {
  if (e->failed) return -1;
  for (int i = 0; i < n_in; i++)
    if (in[i] < 0) return gc_emitter_fail(e, "%s: operand %d is missing", gc_op_name(op), i);
  int id = gc_graph_add(e->g, op, in, n_in, attrs, declared, e->d);
  if (id < 0) e->failed = true;
  return id;
}

/* ---- rebuilding a graph ------------------------------------------------ */

int gc_rebuild_begin(gc_rebuild *r, const gc_graph *old, gc_diag *d) {
  r->old = old;
  r->map = malloc(sizeof *r->map * ((size_t)old->n_nodes + 1));
  r->like = malloc(sizeof *r->like * ((size_t)old->n_nodes + 1));
  gc_emitter_init(&r->em, gc_graph_new(old->name), d);
  if (!r->map || !r->like || !r->em.g) { /* nothing left to release: finish is optional */
    free(r->map);
    free(r->like);
    gc_graph_free(r->em.g);
    r->map = NULL;
    r->like = NULL;
    r->em.g = NULL;
    return gc_emitter_fail(&r->em, "rebuild: out of memory");
  }
  for (int i = 0; i < old->n_nodes; i++) r->map[i] = r->like[i] = -1;
  return 0;
}

int gc_rebuild_id(const gc_rebuild *r, int old_id) {
  if (!r->map || old_id < 0 || old_id >= r->old->n_nodes) return -1;
  return r->map[old_id];
}

int gc_rebuild_map(gc_rebuild *r, int old_id, int new_id) {
  if (r->em.failed) return -1;
  if (old_id < 0 || old_id >= r->old->n_nodes)
    return gc_emitter_fail(&r->em, "rebuild: there is no old node %%%d to map", old_id);
  if (new_id < 0 || new_id >= r->em.g->n_nodes)
    return gc_emitter_fail(&r->em, "rebuild: node %%%d (%s) mapped to %%%d, which the new graph lacks",
                           old_id, gc_op_name(r->old->nodes[old_id]->op), new_id);
  r->map[old_id] = new_id;
  return 0;
}

/* Give new node `id` the label and position of old node `like` (if any). */
static void inherit(gc_rebuild *r, int id, int like) {
  if (like < 0 || like >= r->old->n_nodes) return;
  const gc_node *o = r->old->nodes[like];
  gc_node *n = r->em.g->nodes[id];
  gc_graph_set_label(r->em.g, id, o->label);
  n->line = o->line;
  n->col = o->col;
  n->kernel = o->kernel;   /* a copy or a replacement stays in its kernel */
  /* forward nodes come first: the origin is mapped already, or copied (a
   * node fuse inlines into each kernel reading it), or gone (0) */
  int origin = o->grad_of - 1, to = origin >= 0 ? gc_rebuild_id(r, origin) : -1;
  n->grad_of = (to >= 0 ? to : origin >= 0 ? r->like[origin] : -1) + 1;
  r->like[like] = id;
}

int gc_rebuild_emit(gc_rebuild *r, int like, gc_op op, const int *in, int n_in,
                    const gc_attrs *attrs, const gc_type *declared) {
  int id = gc_emit(&r->em, op, in, n_in, attrs, declared);
  if (id >= 0) inherit(r, id, like);
  return id;
}

/* Fail with "rebuild: node %ID (OP): MESSAGE" placed at the old node. */
static int node_fail(gc_rebuild *r, int old_id, const char *msg) {
  const gc_node *n = r->old->nodes[old_id];
  int rc = gc_emitter_fail(&r->em, "rebuild: node %%%d (%s): %s", old_id, gc_op_name(n->op), msg);
  if (r->em.d) {
    r->em.d->line = n->line;
    r->em.d->col = n->col;
  }
  return rc;
}

int gc_rebuild_copy(gc_rebuild *r, int old_id) {
  char msg[sizeof r->em.d->msg];
  int in[MAX_OPERANDS];
  if (r->em.failed) return -1;
  if (old_id < 0 || old_id >= r->old->n_nodes)
    return gc_emitter_fail(&r->em, "rebuild: there is no old node %%%d to copy", old_id);
  const gc_node *n = r->old->nodes[old_id];
  if (n->n_in > MAX_OPERANDS) return node_fail(r, old_id, "more than 64 operands");
  for (int k = 0; k < n->n_in; k++) {
    in[k] = gc_rebuild_id(r, n->in[k]);
    if (in[k] >= 0) continue;
    snprintf(msg, sizeof msg, "its operand %%%d has no counterpart in the new graph", n->in[k]);
    return node_fail(r, old_id, msg);
  }
  gc_diag d;
  int id = gc_graph_add(r->em.g, n->op, in, n->n_in, &n->attrs, &n->type, &d);
  if (id < 0) return node_fail(r, old_id, d.msg);
  inherit(r, id, old_id);
  r->map[old_id] = id;
  return id;
}

/* Re-bind one output (update == false) or update through the map. */
static int rebind(gc_rebuild *r, const gc_binding *b, bool update) {
  const char *kw = update ? "update" : "output";
  int id = gc_rebuild_id(r, b->node);
  if (id < 0)
    return gc_emitter_fail(&r->em, "rebuild: %s \"%s\": its value %%%d has no counterpart in the new graph",
                           kw, b->name, b->node);
  gc_diag d;
  int rc = update ? gc_graph_add_update(r->em.g, b->name, id, &d) : gc_graph_add_output(r->em.g, b->name, id, &d);
  return rc ? gc_emitter_fail(&r->em, "rebuild: %s", d.msg) : 0;
}

gc_graph *gc_rebuild_finish(gc_rebuild *r) {
  for (int i = 0; i < r->old->n_outputs && !r->em.failed; i++) rebind(r, &r->old->outputs[i], false);
  for (int i = 0; i < r->old->n_updates && !r->em.failed; i++) rebind(r, &r->old->updates[i], true);
  gc_graph *g = r->em.g;
  if (r->em.failed) {
    gc_graph_free(g);
    g = NULL;
  } else {
    g->n_kernels = r->old->n_kernels;
  }
  free(r->map);
  free(r->like);
  r->map = NULL;
  r->like = NULL;
  r->em.g = NULL;
  return g;
}
