/* The interp backend: a program's graph run node by node with the reference
 * kernels, every intermediate value in one arena allocated at compile time.
 *
 * Compile gives each node a tensor view: params and inputs view their
 * program slots; every other value gets an offset in the arena, assigned in
 * node order first-fit, its space free again after its last reader (values
 * bound to outputs and updates live to the end).  A run zeroes each result,
 * runs the kernel, then copies outputs into their slots and updates into
 * their params' slots.  Nothing is allocated per run. */
#include "backends/interp/kernels.h"
#include "backends/runtime/alloc.h"
#include "backends/runtime/program.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  gc_tensor *values;     /* one view per node */
  bool *in_slot;         /* values[i] is its param/input slot */
  char *arena;
  size_t arena_bytes;
  void *scratch;
} interp_state;

/* ---- planning the arena ------------------------------------------------ */

typedef struct {
  size_t offset, size;
} block;

/* Free blocks kept sorted by offset; `top` is the arena's high-water mark. */
typedef struct {
  block *free;
  int n_free;
  size_t top;
} arena_plan;

static size_t plan_take(arena_plan *a, size_t size) {
  for (int i = 0; i < a->n_free; i++)
    if (a->free[i].size >= size) {
      size_t at = a->free[i].offset;
      a->free[i].offset += size;
      a->free[i].size -= size;
      if (a->free[i].size == 0) memmove(&a->free[i], &a->free[i + 1], sizeof *a->free * (size_t)(--a->n_free - i));
      return at;
    }
  /* grow: a free block touching the top is extended */
  if (a->n_free && a->free[a->n_free - 1].offset + a->free[a->n_free - 1].size == a->top) {
    size_t at = a->free[a->n_free - 1].offset;
    a->top = at + size;
    a->n_free--;
    return at;
  }
  size_t at = a->top;
  a->top += size;
  return at;
}

static void plan_give(arena_plan *a, size_t offset, size_t size) {
  int i = 0;
  while (i < a->n_free && a->free[i].offset < offset) i++;
  memmove(&a->free[i + 1], &a->free[i], sizeof *a->free * (size_t)(a->n_free - i));
  a->free[i] = (block){offset, size};
  a->n_free++;
  if (i + 1 < a->n_free && a->free[i].offset + a->free[i].size == a->free[i + 1].offset) {
    a->free[i].size += a->free[i + 1].size;
    memmove(&a->free[i + 1], &a->free[i + 2], sizeof *a->free * (size_t)(a->n_free - i - 2));
    a->n_free--;
  }
  if (i > 0 && a->free[i - 1].offset + a->free[i - 1].size == a->free[i].offset) {
    a->free[i - 1].size += a->free[i].size;
    memmove(&a->free[i], &a->free[i + 1], sizeof *a->free * (size_t)(a->n_free - i - 1));
    a->n_free--;
  }
}

/* last[i]: the last node reading value i; n for values bound to outputs and
 * updates; i itself when nothing reads it. */
static void last_uses(const gc_graph *g, int *last) {
  for (int i = 0; i < g->n_nodes; i++) {
    last[i] = i;
    for (int k = 0; k < g->nodes[i]->n_in; k++) last[g->nodes[i]->in[k]] = i;
  }
  for (int i = 0; i < g->n_outputs; i++) last[g->outputs[i].node] = g->n_nodes;
  for (int i = 0; i < g->n_updates; i++) last[g->updates[i].node] = g->n_nodes;
}

static size_t value_bytes(const gc_node *n) {
  size_t b = (size_t)gc_type_numel_unchecked(&n->type) * gc_dtype_size(n->type.dtype);
  return (b + 63) & ~(size_t)63;
}

/* A param or input read in place from its slot.  A param that an update
 * writes elsewhere ("update a = %b") is copied instead, so updates applied
 * in turn never read a slot another update already wrote. */
static bool in_slot(const gc_program *p, int node) {
  if (p->slot_of_node[node] < 0) return false;
  for (int i = 0; i < p->n_updates; i++)
    if (p->graph->updates[i].node == node) return false;
  return true;
}

/* Offsets for every computed value: offset[i], or SIZE_MAX for values read
 * in their slots. */
static int plan_arena(gc_program *p, size_t *offset, size_t *top, gc_diag *d) {
  const gc_graph *g = p->graph;
  int n = g->n_nodes;
  int *last = malloc(sizeof *last * (size_t)(n + 1));
  int *dying = malloc(sizeof *dying * (size_t)(n + 1));   /* values freed after node i, as a list */
  int *head = malloc(sizeof *head * (size_t)(n + 1));
  arena_plan a = {malloc(sizeof *a.free * (size_t)(n + 1)), 0, 0};
  if (!last || !dying || !head || !a.free) {
    free(last), free(dying), free(head), free(a.free);
    return gc_diag_set(d, "out of memory planning the interpreter's arena");
  }
  last_uses(g, last);
  for (int i = 0; i <= n; i++) head[i] = -1;
  for (int i = 0; i < n; i++) {
    dying[i] = head[last[i]];
    head[last[i]] = i;
  }
  for (int i = 0; i < n; i++) {
    offset[i] = SIZE_MAX;
    if (!in_slot(p, i)) offset[i] = plan_take(&a, value_bytes(g->nodes[i]));
    for (int v = head[i]; v >= 0; v = dying[v])
      if (offset[v] != SIZE_MAX) plan_give(&a, offset[v], value_bytes(g->nodes[v]));
  }
  *top = a.top;
  free(last), free(dying), free(head), free(a.free);
  return 0;
}

/* ---- the backend ------------------------------------------------------- */

static void release(void *state) {
  interp_state *s = state;
  if (!s) return;
  gc_free(s->arena);
  gc_free(s->scratch);
  free(s->values);
  free(s->in_slot);
  free(s);
}

static int compile(gc_program *p, const gc_compile_options *o, void **state, gc_diag *d) {
  (void)o;
  const gc_graph *g = p->graph;
  int n = g->n_nodes;
  interp_state *s = calloc(1, sizeof *s);
  size_t *offset = malloc(sizeof *offset * (size_t)(n + 1));
  if (!s || !offset || !(s->values = calloc((size_t)n + 1, sizeof *s->values)) ||
      !(s->in_slot = calloc((size_t)n + 1, sizeof *s->in_slot))) {
    free(offset), release(s);
    return gc_diag_set(d, "out of memory");
  }
  *state = s;
  size_t scratch = 0;
  for (int i = 0; i < n; i++)
    if (interp_scratch_bytes(g, i) > scratch) scratch = interp_scratch_bytes(g, i);
  int rc = plan_arena(p, offset, &s->arena_bytes, d);
  if (rc == 0 && (!(s->arena = gc_alloc(s->arena_bytes)) || !(s->scratch = gc_alloc(scratch))))
    rc = gc_diag_set(d, "out of memory for the interpreter's %zu-byte arena", s->arena_bytes);
  for (int i = 0; rc == 0 && i < n; i++) {
    s->values[i].type = g->nodes[i]->type;
    s->in_slot[i] = in_slot(p, i);
    s->values[i].data = s->in_slot[i] ? NULL : s->arena + offset[i];
  }
  p->stats.work_bytes = s->arena_bytes;
  free(offset);
  return rc;
}

static void copy_value(gc_tensor *to, const gc_tensor *from) {
  if (to->data != from->data) memcpy(to->data, from->data, gc_tensor_bytes(from));
}

static int run(gc_program *p, void *state, gc_diag *d) {
  interp_state *s = state;
  const gc_graph *g = p->graph;
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    gc_slot *slot = gc_program_source_slot(p, i);
    if (s->in_slot[i]) {   /* read in place */
      s->values[i].data = slot->tensor.data;
      continue;
    }
    interp_call c = {.node = n, .id = i, .out = &s->values[i], .scratch = s->scratch, .d = d};
    if (slot) c.source = &slot->tensor;
    for (int k = 0; k < n->n_in && k < INTERP_MAX_OPERANDS; k++) c.in[k] = &s->values[n->in[k]];
    memset(c.out->data, 0, gc_tensor_bytes(c.out));
    if (interp_run_node(&c)) return -1;
  }
  for (int i = 0; i < p->n_outputs; i++) copy_value(&p->outputs[i].tensor, &s->values[p->outputs[i].node]);
  for (int i = 0; i < p->n_updates; i++)
    copy_value(&p->params[p->update_param[i]].tensor, &s->values[g->updates[i].node]);
  return 0;
}

const gc_backend gc_backend_interp = {
    .name = "interp",
    .description = "the reference interpreter: every op, every dtype, node by node",
    .compile = compile,
    .run = run,
    .release = release,
};
