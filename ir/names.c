/* A graph's names by hashing (see names.h): open addressing over
 * (kind, name), filled lazily from what the graph appended since. */
#include "ir/names.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *name;   /* in the graph's arena; NULL marks an empty slot */
  int kind, value;
} name_slot;

typedef struct gc_graph_names {
  name_slot *slots;
  size_t cap, n;
  int nodes_seen, outputs_seen, updates_seen;
} gc_graph_names;

static uint64_t hash_of(int kind, const char *s) {
  uint64_t h = 1469598103934665603ull ^ (uint64_t)kind;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static name_slot *slot_of(const gc_graph_names *m, int kind, const char *s) {
  size_t i = hash_of(kind, s) & (m->cap - 1);
  while (m->slots[i].name && !(m->slots[i].kind == kind && strcmp(m->slots[i].name, s) == 0))
    i = (i + 1) & (m->cap - 1);
  return &m->slots[i];
}

/* Adds (kind, name) -> value unless the name is there already. */
static void name_add(gc_graph_names *m, int kind, const char *s, int value) {
  if (2 * (m->n + 1) > m->cap) {
    gc_graph_names bigger = *m;
    bigger.cap = m->cap ? 2 * m->cap : 64;
    bigger.slots = calloc(bigger.cap, sizeof *bigger.slots);
    if (!bigger.slots) abort();   /* out of memory is not a user error */
    for (size_t i = 0; i < m->cap; i++)
      if (m->slots[i].name) *slot_of(&bigger, m->slots[i].kind, m->slots[i].name) = m->slots[i];
    free(m->slots);
    *m = bigger;
  }
  name_slot *slot = slot_of(m, kind, s);
  if (slot->name) return;
  *slot = (name_slot){s, kind, value};
  m->n++;
}

static gc_graph_names *catch_up(const gc_graph *g) {
  gc_graph_names *m = g->names;
  if (!m) {
    m = calloc(1, sizeof *m);
    if (!m) abort();
    ((gc_graph *)g)->names = m;   /* a cache: lookups do not change the graph */
  }
  for (; m->nodes_seen < g->n_nodes; m->nodes_seen++) {
    const gc_node *n = g->nodes[m->nodes_seen];
    if (gc_op_is_fed(n->op) && n->attrs.name.name)
      name_add(m, n->op == GC_OP_PARAM ? GC_NAME_PARAM : GC_NAME_INPUT, n->attrs.name.name, m->nodes_seen);
  }
  for (; m->outputs_seen < g->n_outputs; m->outputs_seen++)
    name_add(m, GC_NAME_OUTPUT, g->outputs[m->outputs_seen].name, m->outputs_seen);
  for (; m->updates_seen < g->n_updates; m->updates_seen++)
    name_add(m, GC_NAME_UPDATE, g->updates[m->updates_seen].name, m->updates_seen);
  return m;
}

int gc_graph_names_find(const gc_graph *g, gc_name_kind kind, const char *name) {
  gc_graph_names *m = catch_up(g);
  if (!m->cap) return -1;
  const name_slot *slot = slot_of(m, (int)kind, name);
  return slot->name ? slot->value : -1;
}

void gc_graph_names_free(gc_graph *g) {
  if (!g->names) return;
  free(g->names->slots);
  free(g->names);
  g->names = NULL;
}
