/* Parameter initialisation: the table of per-param rules and the seeded,
 * order-independent filling of a tensor map (see gc_init_params in
 * builder.h for the exact generator). */
#include "frontend/builder.h"
#include "backends/runtime/random_fill.h"

#include <stdlib.h>
#include <string.h>

/* ---- the table --------------------------------------------------------- */

void gc_init_table_free(gc_init_table *t) {
  if (!t) return;
  for (int i = 0; i < t->n; i++) free(t->names[i]);
  free(t->names);
  free(t->rules);
  free(t);
}

static int find(const gc_init_table *t, const char *name) {
  for (int i = 0; t && i < t->n; i++)
    if (strcmp(t->names[i], name) == 0) return i;
  return -1;
}

const gc_init *gc_init_table_find(const gc_init_table *t, const char *name) {
  int i = find(t, name);
  return i < 0 ? NULL : &t->rules[i];
}

void gc_init_table_set(gc_init_table *t, const char *name, gc_init rule) {
  int i = find(t, name);
  if (i >= 0) {
    t->rules[i] = rule;
    return;
  }
  if (t->n == t->cap) {
    int cap = t->cap ? 2 * t->cap : 32;
    char **names = realloc(t->names, sizeof *names * (size_t)cap);
    if (!names) return;
    t->names = names;
    gc_init *rules = realloc(t->rules, sizeof *rules * (size_t)cap);
    if (!rules) return;
    t->rules = rules;
    t->cap = cap;
  }
  char *copy = strdup(name);
  if (!copy) return;
  t->names[t->n] = copy;
  t->rules[t->n++] = rule;
}

/* ---- the generator ----------------------------------------------------- */

static uint64_t fnv1a64(const char *s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
  return h;
}

static void fill(gc_tensor *t, const gc_init *rule, uint64_t state) {
  switch (rule->kind) {
  case GC_INIT_ZEROS: gc_fill_value(t, 0); break;
  case GC_INIT_ONES: gc_fill_value(t, 1); break;
  case GC_INIT_CONST: gc_fill_value(t, rule->value); break;
  case GC_INIT_NORMAL: gc_fill_normal(t, state, rule->value, rule->std); break;
  }
  int64_t n = gc_tensor_numel(t);
  if (rule->zero_row_plus1 > 0 && t->type.rank >= 1 && rule->zero_row_plus1 <= t->type.dims[0]) {
    int64_t row = n / t->type.dims[0], at = (rule->zero_row_plus1 - 1) * row;
    for (int64_t i = 0; i < row; i++) gc_tensor_store(t, at + i, 0);
  }
}

int gc_init_params(const gc_graph *g, const gc_init_table *inits, uint64_t seed,
                   gc_tensor_map *params, gc_diag *d) {
  static const gc_init zeros = {GC_INIT_ZEROS, 0, 0, 0};
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    if (n->op != GC_OP_PARAM) continue;
    const char *name = n->attrs.name.name;
    if (gc_tensor_map_get(params, name)) continue;
    const gc_init *rule = gc_init_table_find(inits, name);
    if (!rule) rule = &zeros;
    if (rule->kind == GC_INIT_NORMAL && !gc_dtype_is_float(n->type.dtype))
      return gc_diag_set(d, "init: param \"%s\" is %s, a normal init needs a float dtype", name,
                         gc_dtype_name(n->type.dtype));
    gc_tensor *t = gc_tensor_new(&n->type);
    if (!t) return gc_diag_set(d, "init: cannot allocate param \"%s\"", name);
    fill(t, rule, seed ^ fnv1a64(name));
    gc_tensor_map_put(params, name, t);
  }
  return 0;
}
