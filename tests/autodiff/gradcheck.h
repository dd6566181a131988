/* tests/autodiff/gradcheck.h — finite-difference checks of autodiff (header
 * only).
 *
 * gc_gradcheck(g, "loss", params, inputs, &opts): keeps a copy of the forward
 * graph, appends the backward part to g with gc_grad (every float param), runs
 * g once on the backend under test (tests/backend_param.h), then for each
 * param element (all of them, or a deterministic sample of opts.max_samples)
 * compares the autodiff value with the central difference of the forward,
 * in f64, with the five-point stencil (8(f(p+h) - f(p-h)) - (f(p+2h) -
 * f(p-2h))) / 12h and h = 1e-4.
 * The differences come from a program compiled ONCE and rerun with one param
 * element changed in its slot each time: on interp the forward copy (it
 * compiles nothing, and runs only the forward); on any other backend the
 * program of g itself (one compile serves both, the compile being the cost).
 * Why not the two-point (f(p+h) - f(p-h)) / 2h with h ~ 1e-6: its round-off,
 * ~1e-16 |f| / h ~ 1e-9 absolute, alone gives relative errors of 1e-7..1e-6
 * on gradient elements of size 1e-3 (softmax, norms), which would measure the
 * checker, not autodiff.  The five-point stencil's truncation error is
 * O(h^4) ~ 1e-16 and its round-off ~1e-12, so errors near 1e-6 are real.
 *
 * Error measure per element: |a - n| / max(|a| + |n|, floor), where floor is
 * opts.floor or the differences' own round-off over tol, whichever is larger
 * (gc_gradcheck_floor): elements whose true gradient is ~0 are not judged by
 * round-off divided by ~0.
 * A failure names the check, the param and the worst element (flat index and
 * coordinates) with both values.  Optionally asserts that no value is NaN:
 * on interp every value of the whole graph (forward and backward, by
 * gc_interp_eval: interp only), on other backends the loss and every
 * gradient.  GC_GRADCHECK_VERBOSE=1 in the environment prints each check's
 * worst error. */
#ifndef GC_TESTS_AUTODIFF_GRADCHECK_H
#define GC_TESTS_AUTODIFF_GRADCHECK_H

#include "tests/testutil.h"
#include "tests/backend_param.h"
#include "autodiff/autodiff.h"
#include "backends/interp/interp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *what;   /* names the check in messages: the op or composite */
  double h;           /* step; default 1e-4 */
  double tol;         /* max relative error; default 1e-6 */
  double floor;       /* denominator floor; default 1e-7 */
  int max_samples;    /* per param; 0 = every element */
  bool check_nan;     /* assert no node value anywhere is NaN */
} gc_gradcheck_opts;

/* ---- a deterministic random source (no global state) ---- */

typedef struct {
  uint64_t s;
} gc_test_rng;

static inline double gc_test_rng_uniform(gc_test_rng *r) {
  r->s ^= r->s << 13;
  r->s ^= r->s >> 7;
  r->s ^= r->s << 17;
  return (double)(r->s >> 11) * (1.0 / 9007199254740992.0);
}

static inline double gc_test_rng_range(gc_test_rng *r, double lo, double hi) { return lo + (hi - lo) * gc_test_rng_uniform(r); }

/* A tensor of uniform values in [lo, hi]; with `gap` > 0, values within gap
 * of zero are pushed away from it (for kinks at 0). */
static inline gc_tensor *gc_rand_tensor(gc_test_rng *r, gc_type t, double lo, double hi, double gap) {
  gc_tensor *x = gc_tensor_new(&t);
  for (int64_t i = 0; i < gc_tensor_numel(x); i++) {
    double v = gc_test_rng_range(r, lo, hi);
    if (gap > 0 && fabs(v) < gap) v = v < 0 ? v - gap : v + gap;
    gc_tensor_store(x, i, v);
  }
  return x;
}

/* Distinct values (a shuffled 0.1-spaced ladder plus jitter below 0.01), so
 * no two elements tie or come within 0.09 of each other. */
static inline gc_tensor *gc_rand_distinct(gc_test_rng *r, gc_type t, double offset) {
  gc_tensor *x = gc_tensor_new(&t);
  int64_t n = gc_tensor_numel(x);
  for (int64_t i = 0; i < n; i++) gc_tensor_store(x, i, (double)i);
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = (int64_t)(gc_test_rng_uniform(r) * (double)(i + 1));
    double a = gc_tensor_load(x, i), b = gc_tensor_load(x, j);
    gc_tensor_store(x, i, b);
    gc_tensor_store(x, j, a);
  }
  for (int64_t i = 0; i < n; i++)
    gc_tensor_store(x, i, offset + 0.1 * gc_tensor_load(x, i) + 0.01 * gc_test_rng_uniform(r));
  return x;
}

/* ---- the checker ---- */

/* A copy of g's nodes and outputs (labels dropped). */
static inline gc_graph *gc_gradcheck_copy(const gc_graph *g) {
  gc_diag d;
  gc_graph *c = gc_graph_new(g->name);
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    if (gc_graph_add(c, n->op, n->in, n->n_in, &n->attrs, &n->type, &d) != i) fail_msg("copy: %s", d.msg);
  }
  for (int i = 0; i < g->n_outputs; i++) gc_graph_add_output(c, g->outputs[i].name, g->outputs[i].node, &d);
  return c;
}

/* Output `output` (element 0) after one more run of p. */
static inline double gc_gradcheck_eval(gc_program *p, const char *output) {
  gc_test_rerun(p, NULL);
  return gc_tensor_load(gc_test_output(p, output), 0);
}

static inline void gc_gradcheck_coords(const gc_type *t, int64_t flat, char *buf, size_t size) {
  int64_t idx[GC_MAX_RANK];
  for (int i = t->rank - 1; i >= 0; i--) {
    idx[i] = t->dims[i] ? flat % t->dims[i] : 0;
    flat = t->dims[i] ? flat / t->dims[i] : 0;
  }
  size_t k = (size_t)snprintf(buf, size, "[");
  for (int i = 0; i < t->rank && k < size; i++)
    k += (size_t)snprintf(buf + k, size - k, "%s%lld", i ? "," : "", (long long)idx[i]);
  if (k < size) snprintf(buf + k, size - k, "]");
}

static inline void gc_gradcheck_no_nan(const gc_graph *g, gc_tensor **values, const char *what) {
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_tensor *v = values[i];
    if (!v || !gc_dtype_is_float(v->type.dtype)) continue;
    for (int64_t k = 0; k < gc_tensor_numel(v); k++)
      if (isnan(gc_tensor_load(v, k)))
        fail_msg("%s: node %%%d (%s%s%s) holds NaN at element %lld", what, i, gc_op_name(g->nodes[i]->op),
                 g->nodes[i]->label ? " " : "", g->nodes[i]->label ? g->nodes[i]->label : "", (long long)k);
  }
}

/* The denominator floor of one element's relative error: at least
 * opts.floor, and at least the stencil's own round-off (18/12 eps max|f| / h)
 * divided by tol, so a gradient too small for the differences to resolve to
 * tol is compared within that round-off instead (e.g. exact zeros, or the
 * sums of softmax gradients, which cancel). */
static inline double gc_gradcheck_floor(const double *f, const gc_gradcheck_opts *o) {
  double m = 0;
  for (int k = 0; k < 4; k++) m = fabs(f[k]) > m ? fabs(f[k]) : m;
  double noise = 1.5 * 2.220446049250313e-16 * m / o->h;
  return noise / o->tol > o->floor ? noise / o->tol : o->floor;
}

/* Compare one param's autodiff gradient against central differences; returns
 * the worst relative error and fails the test when it exceeds tol. */
static inline double gc_gradcheck_param(gc_program *fd, const char *output, const gc_tensor_map *params,
                                        const char *name, const gc_tensor *grad, const gc_gradcheck_opts *o) {
  const gc_tensor *given = gc_tensor_map_get(params, name);
  if (!given) fail_msg("%s: no value for param %s", o->what, name);
  if (!grad) fail_msg("%s: no gradient of param %s", o->what, name);
  /* the program's own buffer; NULL when its passes found the loss does not
   * read this param (then every difference is 0) */
  gc_tensor *p = gc_program_param(fd, name);
  int64_t n = gc_tensor_numel(given);
  int64_t stride = o->max_samples > 0 && n > o->max_samples ? (n + o->max_samples - 1) / o->max_samples : 1;
  double worst = 0, wa = 0, wn = 0;
  int64_t wi = -1;
  for (int64_t i = (stride > 1 ? (int64_t)(n % stride) / 2 : 0); i < n; i += stride) {
    double x = gc_tensor_load(given, i), f[4] = {0, 0, 0, 0};
    const double at[4] = {1, -1, 2, -2};
    for (int k = 0; p && k < 4; k++) {
      gc_tensor_store(p, i, x + at[k] * o->h);
      f[k] = gc_gradcheck_eval(fd, output);
    }
    if (p) gc_tensor_store(p, i, x);
    double num = (8 * (f[0] - f[1]) - (f[2] - f[3])) / (12 * o->h), ana = gc_tensor_load(grad, i);
    double den = fabs(ana) + fabs(num), floor = gc_gradcheck_floor(f, o);
    double err = fabs(ana - num) / (den > floor ? den : floor);
    if (isnan(err)) err = INFINITY;
    if (err > worst || wi < 0) worst = err, wa = ana, wn = num, wi = i;
  }
  if (worst > o->tol) {
    char at[128];
    gc_gradcheck_coords(&given->type, wi, at, sizeof at);
    fail_msg("%s: d%s/d%s worst at element %lld %s: autodiff %.12g, finite difference %.12g, rel err %.3g > %.3g",
             o->what, output, name, (long long)wi, at, wa, wn, worst, o->tol);
  }
  return worst;
}

/* No loss or gradient output of p holds NaN (backends other than interp,
 * where intermediate values are not kept). */
static inline void gc_gradcheck_outputs_no_nan(const gc_program *p, const char *what) {
  const gc_graph *g = gc_program_graph(p);
  for (int i = 0; i < g->n_outputs; i++) {
    const gc_tensor *v = gc_program_output(p, g->outputs[i].name);
    if (!v || !gc_dtype_is_float(v->type.dtype)) continue;
    for (int64_t k = 0; k < gc_tensor_numel(v); k++)
      if (isnan(gc_tensor_load(v, k)))
        fail_msg("%s: output %s holds NaN at element %lld (on %s)", what, g->outputs[i].name, (long long)k,
                 gc_test_backend());
  }
}

/* Check every float param of g; g gets the backward part appended. Returns
 * the worst relative error seen. */
static inline double gc_gradcheck(gc_graph *g, const char *output, gc_tensor_map *params,
                                  const gc_tensor_map *inputs, const gc_gradcheck_opts *opts) {
  gc_gradcheck_opts o = *opts;
  if (o.h == 0) o.h = 1e-4;
  if (o.tol == 0) o.tol = getenv("GC_GRADCHECK_TOL") ? atof(getenv("GC_GRADCHECK_TOL")) : 1e-6;
  if (o.floor == 0) o.floor = 1e-7;
  if (!o.what) o.what = g->name;
  gc_diag d;
  gc_graph *fwd = gc_gradcheck_copy(g);
  int out = gc_graph_find_output(g, output);
  if (out < 0) fail_msg("%s: no output %s", o.what, output);
  int *grads = calloc((size_t)g->n_nodes + 1, sizeof *grads);
  int n = gc_grad(g, out, NULL, 0, grads, &d);
  if (n < 0) fail_msg("%s: gc_grad: %s", o.what, d.msg);
  if (gc_verify(g, &d)) fail_msg("%s: the graph with its backward part does not verify: %s", o.what, d.msg);
  /* the gradients: outputs "gradcheck.grad.<param>" of a copy of g */
  gc_graph *full = gc_graph_clone(g);
  const char **names = calloc((size_t)(n > 0 ? n : 0) + 1, sizeof *names);
  for (int i = 0, k = 0; i < g->n_nodes && k < n; i++) {
    const gc_node *nd = g->nodes[i];
    if (nd->op != GC_OP_PARAM || !gc_dtype_is_float(nd->type.dtype)) continue;
    char name[300];
    snprintf(name, sizeof name, "gradcheck.grad.%s", nd->attrs.name.name);
    if (gc_graph_add_output(full, name, grads[k], &d)) fail_msg("%s: %s", o.what, d.msg);
    names[k++] = nd->attrs.name.name;
  }
  if (o.check_nan && gc_test_on_interp()) {
    gc_tensor **values = calloc((size_t)g->n_nodes, sizeof *values);
    if (gc_interp_eval(g, params, inputs, values, &d)) fail_msg("%s: running the backward graph: %s", o.what, d.msg);
    gc_gradcheck_no_nan(g, values, o.what);
    gc_interp_values_free(g, values);
    free(values);
  }
  gc_program *prog = gc_test_compile(full, params, inputs);
  gc_test_rerun(prog, NULL);
  if (o.check_nan) gc_gradcheck_outputs_no_nan(prog, o.what);
  gc_tensor_map analytic;
  gc_tensor_map_init(&analytic);
  if (gc_program_get_outputs(prog, &analytic, &d)) fail_msg("%s: %s", o.what, d.msg);
  gc_program *fd = gc_test_on_interp() ? gc_test_compile(fwd, params, inputs) : prog;
  double worst = 0;
  for (int k = 0; k < n; k++) {
    char name[300];
    snprintf(name, sizeof name, "gradcheck.grad.%s", names[k]);
    double e = gc_gradcheck_param(fd, output, params, names[k], gc_tensor_map_get(&analytic, name), &o);
    if (e > worst) worst = e;
  }
  if (getenv("GC_GRADCHECK_VERBOSE")) printf("gradcheck %-40s worst rel err %.3g (%s)\n", o.what, worst, gc_test_backend());
  if (fd != prog) gc_program_free(fd);
  gc_program_free(prog);
  gc_tensor_map_clear(&analytic);
  free(names);
  free(grads);
  gc_graph_free(full);
  gc_graph_free(fwd);
  return worst;
}

#endif
