/* The interpreter's entry points for one node and for whole graphs: the
 * kernel table, gc_interp_eval (every value kept, for tests) and
 * gc_interp_run (one run through a program on the interp backend). */
#include "backends/interp/kernels.h"
#include "backends/runtime/program.h"
#include "ir/plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const gc_backend gc_backend_interp;

static interp_kernel *const kernels[GC_OP_COUNT] = {
#define GC_OP(ID, name, arity, attrs, rule) [GC_OP_##ID] = interp_kernel_##name,
#include "ir/ops.def"
#undef GC_OP
};

bool gc_interp_covers_all_ops(void) {
  for (int op = 0; op < GC_OP_COUNT; op++)
    if (!kernels[op]) return false;
  return true;
}

int interp_node_error(const interp_call *c, const char *fmt, ...) {
  char msg[900];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (c->node->label)
    return gc_diag_set(c->d, "%s %%%d (\"%s\"): %s", gc_op_name(c->node->op), c->id,
                       c->node->label, msg);
  return gc_diag_set(c->d, "%s %%%d: %s", gc_op_name(c->node->op), c->id, msg);
}

size_t interp_scratch_bytes(const gc_graph *g, int id) {
  const gc_node *n = g->nodes[id];
  if (n->op == GC_OP_DOT) return sizeof(double) * (size_t)(n->type.rank ? n->type.dims[n->type.rank - 1] : 1);
  if (n->op == GC_OP_REDUCE_SUM && n->type.dtype == GC_F32)
    return sizeof(double) * (size_t)gc_type_numel_unchecked(&n->type);
  return 0;
}

int interp_run_node(const interp_call *c) {
  if (c->node->n_in > INTERP_MAX_OPERANDS) return interp_node_error(c, "too many operands");
  return kernels[c->node->op](c);
}

/* ---- gc_interp_eval: every value kept ---------------------------------- */

/* The caller's tensor for a param/input node, checked against its type. */
static const gc_tensor *find_source(const gc_node *n, const gc_tensor_map *params,
                                    const gc_tensor_map *inputs, gc_diag *d) {
  const char *kind = n->op == GC_OP_PARAM ? "param" : "input";
  const gc_tensor_map *map = n->op == GC_OP_PARAM ? params : inputs;
  const gc_tensor *t = map ? gc_tensor_map_get(map, n->attrs.name.name) : NULL;
  if (!t) {
    gc_diag_set(d, "%s \"%s\" is missing", kind, n->attrs.name.name);
    return NULL;
  }
  if (!gc_type_equal(&t->type, &n->type)) {
    char want[GC_TYPE_STR_MAX], got[GC_TYPE_STR_MAX];
    gc_diag_set(d, "%s \"%s\": expected %s, got %s", kind, n->attrs.name.name,
                gc_type_str(&n->type, want, sizeof want), gc_type_str(&t->type, got, sizeof got));
    return NULL;
  }
  return t;
}

static int eval_node(const gc_graph *g, int id, const gc_tensor_map *params, const gc_tensor_map *inputs,
                     gc_tensor **values, gc_diag *d) {
  const gc_node *n = g->nodes[id];
  interp_call c = {.node = n, .id = id, .d = d};
  if (gc_op_is_fed(n->op) && !(c.source = find_source(n, params, inputs, d))) return -1;
  for (int k = 0; k < n->n_in && k < INTERP_MAX_OPERANDS; k++) c.in[k] = values[n->in[k]];
  size_t scratch = interp_scratch_bytes(g, id);
  if (scratch && !(c.scratch = malloc(scratch))) return interp_node_error(&c, "out of memory");
  c.out = values[id] = gc_tensor_new(&n->type);
  int rc = c.out ? interp_run_node(&c) : interp_node_error(&c, "out of memory");
  free(c.scratch);
  return rc;
}

int gc_interp_eval(const gc_graph *g, const gc_tensor_map *params, const gc_tensor_map *inputs,
                   gc_tensor **values, gc_diag *d) {
  memset(values, 0, sizeof *values * (size_t)g->n_nodes);
  for (int i = 0; i < g->n_nodes; i++)
    if (gc_op_is_fed(g->nodes[i]->op) && !find_source(g->nodes[i], params, inputs, d)) return -1;
  for (int i = 0; i < g->n_nodes; i++)
    if (eval_node(g, i, params, inputs, values, d)) {
      gc_interp_values_free(g, values);
      return -1;
    }
  return 0;
}

void gc_interp_values_free(const gc_graph *g, gc_tensor **values) {
  if (!values) return;
  for (int i = 0; i < g->n_nodes; i++) {
    gc_tensor_free(values[i]);
    values[i] = NULL;
  }
}

/* ---- gc_interp_run: one run of a program ------------------------------- */

int gc_interp_run(const gc_graph *g, gc_tensor_map *params, const gc_tensor_map *inputs,
                  gc_tensor_map *outputs, gc_diag *d) {
  gc_graph *copy = gc_graph_clone(g);
  if (!copy) return gc_diag_set(d, "out of memory");
  if (gc_plan(copy, true, NULL, d)) return gc_graph_free(copy), -1;   /* every backend runs a planned graph */
  gc_program *p = gc_program_new(copy, &gc_backend_interp, NULL, d);
  if (!p) return -1;
  int rc = gc_program_run_once(p, params, inputs, outputs, d);
  gc_program_free(p);
  return rc;
}
