/* Programs: the slots behind params, inputs and outputs, binding tensors to
 * them, and one run through the backend (see backends/backend.h). */
#include "backends/runtime/program.h"
#include "backends/runtime/comm.h"
#include "base/alloc.h"
#include "base/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gc_compile_options_init(gc_compile_options *o) { memset(o, 0, sizeof *o); }

/* ---- making the slots -------------------------------------------------- */

static int make_slot(gc_slot *s, const char *name, int node, const gc_type *t, gc_diag *d) {
  int64_t n;
  s->name = name;
  s->node = node;
  s->tensor.type = *t;
  if (!gc_type_numel(t, &n) || !(s->tensor.data = gc_alloc((size_t)n * gc_dtype_size(t->dtype))))
    return gc_diag_set(d, "out of memory for \"%s\"", name);
  return 0;
}

static int count_sources(const gc_graph *g, gc_op op) {
  int n = 0;
  for (int i = 0; i < g->n_nodes; i++) n += g->nodes[i]->op == op;
  return n;
}

static int make_slots(gc_program *p, gc_diag *d) {
  const gc_graph *g = p->graph;
  p->n_params = count_sources(g, GC_OP_PARAM);
  p->n_inputs = count_sources(g, GC_OP_INPUT);
  p->n_outputs = g->n_outputs;
  p->n_updates = g->n_updates;
  p->params = calloc((size_t)p->n_params + 1, sizeof *p->params);
  p->inputs = calloc((size_t)p->n_inputs + 1, sizeof *p->inputs);
  p->outputs = calloc((size_t)p->n_outputs + 1, sizeof *p->outputs);
  p->update_param = calloc((size_t)p->n_updates + 1, sizeof *p->update_param);
  p->slot_of_node = malloc(((size_t)g->n_nodes + 1) * sizeof *p->slot_of_node);
  if (!p->params || !p->inputs || !p->outputs || !p->update_param || !p->slot_of_node)
    return gc_diag_set(d, "out of memory");
  int np = 0, ni = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    p->slot_of_node[i] = -1;
    if (!gc_op_is_fed(n->op)) continue;
    bool param = n->op == GC_OP_PARAM;
    p->slot_of_node[i] = param ? np : ni;
    if (make_slot(param ? &p->params[np++] : &p->inputs[ni++], n->attrs.name.name, i, &n->type, d)) return -1;
  }
  for (int i = 0; i < g->n_outputs; i++) {
    const gc_binding *b = &g->outputs[i];
    if (make_slot(&p->outputs[i], b->name, b->node, &g->nodes[b->node]->type, d)) return -1;
  }
  for (int i = 0; i < g->n_updates; i++) {
    int node = gc_graph_find_param(g, g->updates[i].name);
    if (node < 0) return gc_diag_set(d, "update \"%s\": there is no param of that name", g->updates[i].name);
    p->update_param[i] = p->slot_of_node[node];
  }
  return 0;
}

gc_program *gc_program_new(gc_graph *g, const gc_backend *backend, const gc_compile_options *o,
                           gc_diag *d) {
  double t0 = gc_now_ms();
  gc_program *p = calloc(1, sizeof *p);
  if (!p) {
    gc_graph_free(g);
    gc_diag_set(d, "out of memory");
    return NULL;
  }
  p->graph = g;
  p->backend = backend;
  gc_compile_options defaults;
  if (!o) gc_compile_options_init(&defaults), o = &defaults;
  p->comm = o->comm ? o->comm : gc_comm_local();
  if ((o->nans.check_nans || o->nans.check_infs) && !(p->nan_check = calloc(1, sizeof *p->nan_check))) {
    gc_program_free(p);
    gc_diag_set(d, "out of memory");
    return NULL;
  }
  if (p->nan_check) *p->nan_check = (gc_nan_check){.infs = o->nans.check_infs, .dir = o->nans.dir};
  if (make_slots(p, d) || backend->compile(p, o, &p->state, d)) {
    gc_program_free(p);
    return NULL;
  }
  p->stats.flops = gc_graph_flops(g);
  for (int i = 0; i < p->n_params; i++) p->stats.param_bytes += gc_tensor_bytes(&p->params[i].tensor);
  p->stats.compile_ms = gc_now_ms() - t0;
  return p;
}

static void free_slots(gc_slot *s, int n) {
  for (int i = 0; s && i < n; i++)
    if (!s[i].shared) gc_free(s[i].tensor.data);
  free(s);
}

void gc_program_free(gc_program *p) {
  if (!p) return;
  if (p->state) p->backend->release(p->state);
  free_slots(p->params, p->n_params);
  free_slots(p->inputs, p->n_inputs);
  free_slots(p->outputs, p->n_outputs);
  free(p->update_param);
  free(p->slot_of_node);
  gc_graph_free(p->graph);
  free(p->nan_check);
  free(p);
}

const gc_graph *gc_program_graph(const gc_program *p) { return p->graph; }
const gc_backend *gc_program_backend(const gc_program *p) { return p->backend; }
gc_program_stats gc_program_stats_of(const gc_program *p) { return p->stats; }

/* ---- binding tensors --------------------------------------------------- */

static gc_slot *find_slot(gc_slot *s, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (strcmp(s[i].name, name) == 0) return &s[i];
  return NULL;
}

/* Copy t into slot s after checking its type; `kind` names the slot. */
static int copy_in(gc_slot *s, const gc_tensor *t, const char *kind, gc_diag *d) {
  if (!gc_type_equal(&t->type, &s->tensor.type)) {
    char want[GC_TYPE_STR_MAX], got[GC_TYPE_STR_MAX];
    return gc_diag_set(d, "%s \"%s\": expected %s, got %s", kind, s->name,
                       gc_type_str(&s->tensor.type, want, sizeof want), gc_type_str(&t->type, got, sizeof got));
  }
  memcpy(s->tensor.data, t->data, gc_tensor_bytes(t));
  return 0;
}

static int bind(gc_slot *slots, int n, const gc_tensor_map *m, bool require_all, const char *kind, gc_diag *d) {
  for (int i = 0; i < n; i++) {
    const gc_tensor *t = m ? gc_tensor_map_get(m, slots[i].name) : NULL;
    if (!t) {
      if (require_all) return gc_diag_set(d, "%s \"%s\" is missing", kind, slots[i].name);
      continue;
    }
    if (copy_in(&slots[i], t, kind, d)) return -1;
  }
  return 0;
}

int gc_program_set_params(gc_program *p, const gc_tensor_map *params, bool require_all, gc_diag *d) {
  return bind(p->params, p->n_params, params, require_all, "param", d);
}

int gc_program_share_params(gc_program *p, gc_program *owner, gc_diag *d) {
  for (int i = 0; i < p->n_params; i++) {
    gc_slot *s = &p->params[i], *o = find_slot(owner->params, owner->n_params, s->name);
    if (!o) continue;
    if (!gc_type_equal(&o->tensor.type, &s->tensor.type)) {
      char a[GC_TYPE_STR_MAX], b[GC_TYPE_STR_MAX];
      return gc_diag_set(d, "param \"%s\" is %s here but %s in the program sharing it", s->name,
                         gc_type_str(&s->tensor.type, a, sizeof a), gc_type_str(&o->tensor.type, b, sizeof b));
    }
    if (!s->shared) gc_free(s->tensor.data);
    s->tensor.data = o->tensor.data;
    s->shared = true;
  }
  return 0;
}

int gc_program_adopt_params(gc_program *p, gc_tensor_map *params, bool require_all, gc_diag *d) {
  for (int i = 0; i < p->n_params; i++) {
    gc_slot *s = &p->params[i];
    gc_tensor *t = params ? gc_tensor_map_get(params, s->name) : NULL;
    if (!t) {
      if (require_all) return gc_diag_set(d, "param \"%s\" is missing", s->name);
      continue;
    }
    if (!gc_type_equal(&t->type, &s->tensor.type)) return copy_in(s, t, "param", d);   /* the type error */
    t = gc_tensor_map_take(params, s->name);
    if (!s->shared) gc_free(s->tensor.data);
    s->tensor.data = t->data;   /* gc_alloc'd, 64-aligned: the slot's own from now on */
    s->shared = false;
    t->data = NULL;
    gc_tensor_free(t);
  }
  return 0;
}

int gc_program_feed(gc_program *p, const gc_tensor_map *inputs, gc_diag *d) {
  return bind(p->inputs, p->n_inputs, inputs, true, "input", d);
}

static int copy_out(const gc_slot *s, int n, gc_tensor_map *out, gc_diag *d) {
  for (int i = 0; i < n; i++) {
    gc_tensor *t = gc_tensor_clone(&s[i].tensor);
    if (!t) return gc_diag_set(d, "out of memory copying \"%s\"", s[i].name);
    gc_tensor_map_put(out, s[i].name, t);
  }
  return 0;
}

int gc_program_get_params(const gc_program *p, gc_tensor_map *out, gc_diag *d) {
  return copy_out(p->params, p->n_params, out, d);
}

int gc_program_get_outputs(const gc_program *p, gc_tensor_map *out, gc_diag *d) {
  return copy_out(p->outputs, p->n_outputs, out, d);
}

gc_tensor *gc_program_param(gc_program *p, const char *name) {
  gc_slot *s = find_slot(p->params, p->n_params, name);
  return s ? &s->tensor : NULL;
}

gc_tensor *gc_program_input(gc_program *p, const char *name) {
  gc_slot *s = find_slot(p->inputs, p->n_inputs, name);
  return s ? &s->tensor : NULL;
}

const gc_tensor *gc_program_output(const gc_program *p, const char *name) {
  gc_slot *s = find_slot(p->outputs, p->n_outputs, name);
  return s ? &s->tensor : NULL;
}

int gc_program_run(gc_program *p, gc_diag *d) {
  if (p->nan_check) p->nan_check->step++, p->nan_check->stopped = false;
  return p->backend->run(p, p->state, d);
}

bool gc_program_stopped_at_nan(const gc_program *p) { return p->nan_check && p->nan_check->stopped; }

void gc_program_set_runs(gc_program *p, int64_t runs) {
  if (p->nan_check) p->nan_check->step = runs;
}

/* Move every tensor of `from` into `to` (replacing), leaving `from` empty. */
static void move_all(gc_tensor_map *to, gc_tensor_map *from) {
  for (int i = 0; i < from->n; i++) gc_tensor_map_put(to, from->names[i], from->tensors[i]), from->tensors[i] = NULL;
  gc_tensor_map_clear(from);
}

int gc_program_run_once(gc_program *p, gc_tensor_map *params, const gc_tensor_map *inputs,
                        gc_tensor_map *outputs, gc_diag *d) {
  gc_tensor_map outs, ups;   /* moved into outputs and params only on success */
  gc_tensor_map_init(&outs);
  gc_tensor_map_init(&ups);
  int rc = gc_program_set_params(p, params, true, d);
  if (rc == 0) rc = gc_program_feed(p, inputs, d);
  if (rc == 0) rc = gc_program_run(p, d);
  if (rc == 0) rc = gc_program_get_outputs(p, &outs, d);
  for (int i = 0; rc == 0 && i < p->n_updates; i++) {
    const gc_slot *s = &p->params[p->update_param[i]];
    gc_tensor *t = gc_tensor_clone(&s->tensor);
    if (!t) rc = gc_diag_set(d, "out of memory");
    else gc_tensor_map_put(&ups, s->name, t);
  }
  if (rc == 0) {
    move_all(outputs, &outs);
    move_all(params, &ups);
  }
  gc_tensor_map_clear(&outs);
  gc_tensor_map_clear(&ups);
  return rc;
}

void gc_program_profile(const gc_program *p, FILE *out, int top) {
  if (p->backend->profile) p->backend->profile(p, p->state, out, top);
  else if (out) fprintf(out, "profile: the %s backend keeps no per-kernel profile\n", p->backend->name);
}
