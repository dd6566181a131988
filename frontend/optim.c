/* The optimizer step appended to a training graph: the config (defaults and
 * key=value settings) and gc_optim_append, which differentiates the loss and
 * emits the schedule, clipping and updates (optim_schedule.c, optim_update.c). */
#include "frontend/optim.h"

#include "autodiff/autodiff.h"
#include "frontend/builder_internal.h"
#include "frontend/optim_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void gc_optim_defaults(gc_optim_config *c) {
  *c = (gc_optim_config){
      .kind = GC_OPTIM_ADAMW, .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8,
      .momentum = 0.9, .weight_decay = 0.1, .warmup = 100, .decay_steps = 2000,
      .min_lr = 1e-4, .clip = 1.0, .schedule = GC_SCHEDULE_COSINE,
  };
}

/* ---- config keys -------------------------------------------------------- */

static int parse_double(const char *key, const char *s, double lo, double hi, bool hi_open,
                        double *out, gc_diag *d) {
  char *end;
  errno = 0;
  double v = s ? strtod(s, &end) : NAN;
  if (!s || end == s || *end || errno || !isfinite(v) || v < lo || v > hi || (hi_open && v == hi))
    return gc_diag_set(d, "optim: %s must be a number in [%g, %g%s, got \"%s\"", key, lo, hi,
                       hi_open ? ")" : "]", s ? s : "");
  *out = v;
  return 0;
}

static int parse_steps(const char *key, const char *s, int64_t *out, gc_diag *d) {
  char *end;
  errno = 0;
  long long v = s ? strtoll(s, &end, 10) : -1;
  if (!s || end == s || *end || errno || v < 0)
    return gc_diag_set(d, "optim: %s must be a step count >= 0, got \"%s\"", key, s ? s : "");
  *out = (int64_t)v;
  return 0;
}

static int parse_choice(const char *key, const char *s, const char *a, const char *b, int *out,
                        gc_diag *d) {
  if (s && strcmp(s, a) == 0) *out = 0;
  else if (s && strcmp(s, b) == 0) *out = 1;
  else return gc_diag_set(d, "optim: %s must be %s or %s, got \"%s\"", key, a, b, s ? s : "");
  return 0;
}

int gc_optim_config_set(gc_optim_config *c, const char *key, const char *value, gc_diag *d) {
  const double big = HUGE_VAL;
  int choice = 0, rc;
  if (!key) return 1;
  if (strcmp(key, "lr") == 0) return parse_double(key, value, 0, big, false, &c->lr, d);
  if (strcmp(key, "beta1") == 0) return parse_double(key, value, 0, 1, true, &c->beta1, d);
  if (strcmp(key, "beta2") == 0) return parse_double(key, value, 0, 1, true, &c->beta2, d);
  if (strcmp(key, "eps") == 0) return parse_double(key, value, 0, big, false, &c->eps, d);
  if (strcmp(key, "momentum") == 0) return parse_double(key, value, 0, 1, false, &c->momentum, d);
  if (strcmp(key, "weight_decay") == 0)
    return parse_double(key, value, 0, big, false, &c->weight_decay, d);
  if (strcmp(key, "min_lr") == 0) return parse_double(key, value, 0, big, false, &c->min_lr, d);
  if (strcmp(key, "clip") == 0) return parse_double(key, value, 0, big, false, &c->clip, d);
  if (strcmp(key, "warmup") == 0) return parse_steps(key, value, &c->warmup, d);
  if (strcmp(key, "decay_steps") == 0) return parse_steps(key, value, &c->decay_steps, d);
  if (strcmp(key, "schedule") == 0) {
    rc = parse_choice(key, value, "cosine", "constant", &choice, d);
    if (rc == 0) c->schedule = choice ? GC_SCHEDULE_CONSTANT : GC_SCHEDULE_COSINE;
    return rc;
  }
  if (strcmp(key, "optimizer") == 0) {
    rc = parse_choice(key, value, "adamw", "sgd", &choice, d);
    if (rc == 0) c->kind = choice ? GC_OPTIM_SGD : GC_OPTIM_ADAMW;
    return rc;
  }
  return 1;
}

/* ---- the training step -------------------------------------------------- */

static bool trainable(const gc_node *n) {
  return n->op == GC_OP_PARAM && gc_dtype_is_float(n->type.dtype) &&
         strncmp(n->attrs.name.name, "opt.", 4) != 0;
}

/* The float params not named opt.*, in node order; their count. */
int gc_optim_collect_params(const gc_graph *g, int *out) {
  int n = 0;
  for (int i = 0; i < g->n_nodes; i++)
    if (trainable(g->nodes[i])) out[n++] = i;
  return n;
}

/* autodiff returns a zero const for a param the loss does not reach; such a
 * param is left alone (torch skips params whose .grad is None). */
bool gc_optim_unreached(const gc_graph *g, int grad) {
  const gc_node *n = g->nodes[grad];
  return n->op == GC_OP_CONST && n->attrs.value.value == 0;
}

/* Schedule, clipping and updates for params[i] with gradient grads[i]. */
void gc_optim_emit_step(gc_builder *b, const gc_optim_config *c, int n, const int *params,
                      const int *grad_ids) {
  gc_graph *g = gc_builder_graph(b);
  gc_val *grads = malloc((size_t)(n > 0 ? n : 1) * sizeof *grads);
  if (!grads) {
    gc_builder_fail(b, "optim: out of memory");
    return;
  }
  for (int i = 0; i < n; i++) grads[i] = gc_val_of(grad_ids[i]);
  gc_push(b, "optim");
  gc_val step = gc_param_full(b, "opt.step", GC_I64, 0, NULL, gc_init_zeros());
  gc_val next = gc_add(b, step, gc_const(b, 1, GC_I64, 0, NULL));
  gc_val s = gc_cast(b, next, GC_FLOATX);
  gc_optim_step_vals sv = {.lr = gc_optim_schedule_lr(b, c, s)};
  if (c->kind == GC_OPTIM_ADAMW) {
    sv.bc1 = gc_sub(b, gc_constf(b, 1), gc_pow(b, gc_constf(b, c->beta1), s));
    sv.bc2 = gc_sub(b, gc_constf(b, 1), gc_pow(b, gc_constf(b, c->beta2), s));
  }
  gc_val norm = gc_optim_clip(b, c, n, grads);
  for (int i = 0; i < n; i++)
    gc_optim_update_param(b, c, &sv, g->nodes[params[i]]->attrs.name.name, gc_val_of(params[i]),
                          grads[i]);
  gc_update(b, "opt.step", next);
  gc_output(b, "lr", sv.lr);
  gc_output(b, "grad_norm", norm);
  gc_pop(b);
  free(grads);
}

/* Hand the graph back from a builder that wraps it (never freeing it). */
int gc_optim_release_graph(gc_builder *b, gc_diag *d) {
  const char *err = gc_builder_error(b);
  int rc = err ? gc_diag_set(d, "%s", err) : gc_verify(b->g, d);
  b->g = NULL;
  gc_builder_free(b);
  return rc;
}

static int append_step(gc_graph *g, int loss, const gc_optim_config *c, int *params, int *grads,
                       gc_diag *d) {
  int n = gc_optim_collect_params(g, params);
  if (n == 0) return gc_diag_set(d, "optim: the graph has no float params to train");
  if (gc_grad(g, loss, params, n, grads, d) < 0) return -1;
  int kept = 0;
  for (int i = 0; i < n; i++)
    if (!gc_optim_unreached(g, grads[i])) {
      params[kept] = params[i];
      grads[kept++] = grads[i];
    }
  if (kept == 0) return gc_diag_set(d, "optim: the loss does not depend on any param");
  gc_builder *b = gc_builder_wrap(g, g->nodes[loss]->type.dtype);
  if (!b) return gc_diag_set(d, "optim: out of memory");
  gc_optim_emit_step(b, c, kept, params, grads);
  return gc_optim_release_graph(b, d);
}

int gc_optim_append(gc_graph *g, const char *loss, const gc_optim_config *c, gc_diag *d) {
  if (!g || !c) return gc_diag_set(d, "optim: no graph or config");
  int node = gc_graph_find_output(g, loss ? loss : "");
  if (node < 0) return gc_diag_set(d, "optim: the graph has no output \"%s\"", loss ? loss : "");
  const gc_type *t = &g->nodes[node]->type;
  if (!gc_dtype_is_float(t->dtype) || t->rank != 0) {
    char buf[GC_TYPE_STR_MAX];
    return gc_diag_set(d, "optim: the loss \"%s\" must be a float scalar, got %s", loss,
                       gc_type_str(t, buf, sizeof buf));
  }
  int *params = malloc((size_t)g->n_nodes * sizeof *params);
  int *grads = malloc((size_t)g->n_nodes * sizeof *grads);
  int rc = params && grads ? append_step(g, node, c, params, grads, d)
                           : gc_diag_set(d, "optim: out of memory");
  free(params);
  free(grads);
  return rc;
}
