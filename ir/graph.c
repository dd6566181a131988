/* Graph construction: nodes appended in topological order. */
#include "ir.h"
#include "ir/names.h"

#include <stdlib.h>
#include <string.h>

gc_graph *gc_graph_new(const char *name) {
  gc_graph *g = calloc(1, sizeof *g);
  if (!g) return NULL;
  g->arena = gc_arena_new();
  g->name = gc_arena_strdup(g->arena, name ? name : "main");
  return g;
}

void gc_graph_free(gc_graph *g) {
  if (!g) return;
  free(g->nodes);
  free(g->outputs);
  free(g->updates);
  gc_graph_names_free(g);
  gc_arena_free(g->arena);
  free(g);
}

static void *grow(void *p, int *cap, int need, size_t elem) {
  if (need <= *cap) return p;
  int c = *cap ? *cap * 2 : 64;
  while (c < need) c *= 2;
  p = realloc(p, (size_t)c * elem);
  if (!p) abort();
  *cap = c;
  return p;
}

/* Copy string attributes into the graph's arena so callers keep ownership. */
static void own_strings(gc_graph *g, gc_op op, gc_attrs *a) {
  int n;
  const gc_field *f = gc_schema_fields(gc_op_info_of(op)->schema, &n);
  for (int i = 0; i < n; i++) {
    if (f[i].kind == GC_FIELD_PAIRS) {
      gc_pairs *q = (gc_pairs *)((char *)a + f[i].offset);
      for (int j = 0; j < q->n; j++) q->key[j] = gc_arena_strdup(g->arena, q->key[j]);
    }
    if (f[i].kind != GC_FIELD_STR) continue;
    const char **s = (const char **)((char *)a + f[i].offset);
    if (*s) *s = gc_arena_strdup(g->arena, *s);
  }
}

int gc_graph_add(gc_graph *g, gc_op op, const int *in, int n_in, const gc_attrs *attrs,
                 const gc_type *declared, gc_diag *d) {
  gc_type t;
  gc_attrs a;
  if (attrs) a = *attrs;
  else gc_attrs_defaults(op, &a);
  if (gc_infer_type(g, op, in, n_in, &a, declared, &t, d)) return -1;
  gc_node *n = gc_arena_alloc(g->arena, sizeof *n);
  n->op = op;
  n->type = t;
  n->n_in = n_in;
  n->in = gc_arena_alloc(g->arena, sizeof(int) * (size_t)(n_in ? n_in : 1));
  if (n_in) memcpy(n->in, in, sizeof(int) * (size_t)n_in);
  own_strings(g, op, &a);
  n->attrs = a;
  g->nodes = grow(g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof *g->nodes);
  g->nodes[g->n_nodes] = n;
  return g->n_nodes++;
}

void gc_graph_set_label(gc_graph *g, int node, const char *label) {
  if (node < 0 || node >= g->n_nodes) return;
  g->nodes[node]->label = label ? gc_arena_strdup(g->arena, label) : NULL;
}

int gc_graph_add_output(gc_graph *g, const char *name, int node, gc_diag *d) {
  if (node < 0 || node >= g->n_nodes) return gc_diag_set(d, "output \"%s\": no such value", name);
  if (gc_graph_names_find(g, GC_NAME_OUTPUT, name) >= 0)
    return gc_diag_set(d, "output \"%s\" is defined twice", name);
  g->outputs = grow(g->outputs, &g->cap_outputs, g->n_outputs + 1, sizeof *g->outputs);
  g->outputs[g->n_outputs++] = (gc_binding){gc_arena_strdup(g->arena, name), node};
  return 0;
}

int gc_graph_add_update(gc_graph *g, const char *param, int node, gc_diag *d) {
  if (node < 0 || node >= g->n_nodes) return gc_diag_set(d, "update \"%s\": no such value", param);
  int p = gc_graph_find_param(g, param);
  if (p < 0) return gc_diag_set(d, "update \"%s\": there is no param of that name", param);
  if (gc_graph_names_find(g, GC_NAME_UPDATE, param) >= 0)
    return gc_diag_set(d, "update \"%s\" is given twice", param);
  if (!gc_type_equal(&g->nodes[p]->type, &g->nodes[node]->type)) {
    char b1[GC_TYPE_STR_MAX], b2[GC_TYPE_STR_MAX];
    return gc_diag_set(d, "update \"%s\": value type %s differs from the param's %s", param,
                       gc_type_str(&g->nodes[node]->type, b1, sizeof b1),
                       gc_type_str(&g->nodes[p]->type, b2, sizeof b2));
  }
  g->updates = grow(g->updates, &g->cap_updates, g->n_updates + 1, sizeof *g->updates);
  g->updates[g->n_updates++] = (gc_binding){gc_arena_strdup(g->arena, param), node};
  return 0;
}

int gc_graph_find_param(const gc_graph *g, const char *name) { return gc_graph_names_find(g, GC_NAME_PARAM, name); }
int gc_graph_find_input(const gc_graph *g, const char *name) { return gc_graph_names_find(g, GC_NAME_INPUT, name); }

int gc_graph_find_output(const gc_graph *g, const char *name) {
  int i = gc_graph_names_find(g, GC_NAME_OUTPUT, name);
  return i < 0 ? -1 : g->outputs[i].node;
}
