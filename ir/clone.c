/* gc_graph_clone: a deep copy of a graph into a new arena. */
#include "ir/ir.h"

#include <stdlib.h>
#include <string.h>

static void copy_strings(gc_arena *a, gc_node *n) {
  int k;
  const gc_field *f = gc_schema_fields(gc_op_info_of(n->op)->schema, &k);
  for (int i = 0; i < k; i++) {
    if (f[i].kind == GC_FIELD_PAIRS) {
      gc_pairs *q = (gc_pairs *)((char *)&n->attrs + f[i].offset);
      for (int j = 0; j < q->n; j++) q->key[j] = gc_arena_strdup(a, q->key[j]);
    }
    if (f[i].kind != GC_FIELD_STR) continue;
    const char **s = (const char **)((char *)&n->attrs + f[i].offset);
    if (*s) *s = gc_arena_strdup(a, *s);
  }
  if (n->label) n->label = gc_arena_strdup(a, n->label);
  if (n->into) n->into = gc_arena_strdup(a, n->into);
}

gc_graph *gc_graph_clone(const gc_graph *g) {
  gc_graph *c = gc_graph_new(g->name);
  if (!c) return NULL;
  c->nodes = malloc(sizeof *c->nodes * (size_t)(g->n_nodes ? g->n_nodes : 1));
  if (!c->nodes) return gc_graph_free(c), NULL;
  c->cap_nodes = g->n_nodes ? g->n_nodes : 1;
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *o = g->nodes[i];
    gc_node *n = gc_arena_alloc(c->arena, sizeof *n);
    *n = *o;
    n->in = gc_arena_alloc(c->arena, sizeof(int) * (size_t)(o->n_in ? o->n_in : 1));
    if (o->n_in) memcpy(n->in, o->in, sizeof(int) * (size_t)o->n_in);
    copy_strings(c->arena, n);
    c->nodes[i] = n;
  }
  c->n_nodes = g->n_nodes;
  c->n_kernels = g->n_kernels;
  for (int i = 0; i < g->n_outputs; i++)
    if (gc_graph_add_output(c, g->outputs[i].name, g->outputs[i].node, NULL)) return gc_graph_free(c), NULL;
  for (int i = 0; i < g->n_updates; i++)
    if (gc_graph_add_update(c, g->updates[i].name, g->updates[i].node, NULL)) return gc_graph_free(c), NULL;
  return c;
}
