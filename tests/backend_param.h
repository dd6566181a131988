/* tests/backend_param.h — the backend a suite runs on (header only).
 *
 * A suite whose source carries the marker line "gc-test: every backend" is
 * registered by CMakeLists.txt once per backend: NAME runs on interp,
 * NAME_llvm (NAME_<backend> for every other backend) runs the same program
 * with GC_TEST_BACKEND=llvm in its environment.  The suite builds its graphs
 * and expected values once; these helpers run them on the backend named by
 * $GC_TEST_BACKEND (default interp):
 *
 *   gc_test_backend()        the backend's name
 *   gc_test_run(g, ...)      gc_interp_run's contract (params updated by the
 *                            graph's updates, outputs filled, nothing written
 *                            on error), on the backend under test
 *   gc_test_compile(g, ...)  compile ONCE and bind params and inputs: a
 *                            program a check reruns many times (finite
 *                            differences), changing params in between with
 *                            gc_test_rerun (gc_program_set_params) or by
 *                            writing a param's slot (gc_program_param)
 *   gc_test_tol(dt, tol)     the tolerance of an expectation written for the
 *                            interpreter, on the backend under test
 *   gc_test_expect_close()   one tensor against another, naming the worst
 *                            element
 *
 * Compile options: interp runs the graph as built (no passes), exactly as
 * gc_interp_run does, so on interp every expectation means what it meant
 * before; any other backend gets the default pipeline (simplify, cse, dce,
 * fuse, plan), which is what users get and what keeps the kernel count (LLVM's
 * compile time) low.  $GC_TEST_PASSES overrides the pipeline ("" = none),
 * $GC_TEST_THREADS the thread count (default 0: the cores available). */
#ifndef GC_TESTS_BACKEND_PARAM_H
#define GC_TESTS_BACKEND_PARAM_H

#include "tests/testutil.h"
#include "backends/backend.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static inline const char *gc_test_backend(void) {
  const char *b = getenv("GC_TEST_BACKEND");
  return b && *b ? b : "interp";
}

static inline bool gc_test_on_interp(void) { return strcmp(gc_test_backend(), "interp") == 0; }

/* The compile options of the backend under test (see above). */
static inline gc_compile_options gc_test_compile_options(void) {
  gc_compile_options o;
  gc_compile_options_init(&o);
  o.backend = gc_test_backend();
  const char *passes = getenv("GC_TEST_PASSES");
  o.passes = passes ? passes : gc_test_on_interp() ? "" : NULL;
  const char *threads = getenv("GC_TEST_THREADS");
  o.threads = threads ? atoi(threads) : 0;
  return o;
}

/* f64 to 1e-12 relative, f32 to 1e-5 (the documented approximations of
 * docs/math.md are far inside both): the most another backend may differ
 * from the interpreter.  An exact expectation (tol 0) stays exact. */
static inline double gc_test_backend_tol(gc_dtype dt) {
  return dt == GC_F32 ? 1e-5 : dt == GC_F64 ? 1e-12 : 0;
}

static inline double gc_test_tol(gc_dtype dt, double tol) {
  if (tol == 0 || gc_test_on_interp()) return tol;
  double b = gc_test_backend_tol(dt);
  return tol > b ? tol : b;
}

/* ---- one run ------------------------------------------------------------- */

/* gc_interp_run on the backend under test: compile g, bind every param and
 * input, run once; on success the outputs go into `outputs` and every
 * updated param's new value replaces its tensor in `params`.  On error
 * (-1 + message) neither map is touched. */
static inline int gc_test_run(const gc_graph *g, gc_tensor_map *params, const gc_tensor_map *inputs,
                              gc_tensor_map *outputs, gc_diag *d) {
  gc_compile_options o = gc_test_compile_options();
  gc_program *p = gc_compile(g, &o, d);
  if (!p) return -1;
  int rc = gc_program_run_once(p, params, inputs, outputs, d);
  gc_program_free(p);
  return rc;
}

/* ---- compile once, run many ---------------------------------------------- */

/* g compiled for the backend under test with opts (NULL: the test's own),
 * every param of `params` and every input of `inputs` bound; fails the
 * running test on error.  The caller frees it with gc_program_free. */
static inline gc_program *gc_test_compile_with(const gc_graph *g, const gc_compile_options *opts,
                                               const gc_tensor_map *params, const gc_tensor_map *inputs) {
  gc_diag d = {0};
  gc_compile_options o = opts ? *opts : gc_test_compile_options();
  gc_program *p = gc_compile(g, &o, &d);
  if (!p) fail_msg("compiling %s for %s: %s", g->name ? g->name : "the graph", o.backend, d.msg);
  if (gc_program_set_params(p, params, true, &d) || gc_program_feed(p, inputs, &d))
    fail_msg("binding %s on %s: %s", g->name ? g->name : "the graph", o.backend, d.msg);
  return p;
}

static inline gc_program *gc_test_compile(const gc_graph *g, const gc_tensor_map *params,
                                          const gc_tensor_map *inputs) {
  return gc_test_compile_with(g, NULL, params, inputs);
}

/* Rerun p after copying in the params `params` has (NULL: as they are);
 * fails the running test on error. */
static inline void gc_test_rerun(gc_program *p, const gc_tensor_map *params) {
  gc_diag d = {0};
  if (params && gc_program_set_params(p, params, false, &d)) fail_msg("setting params: %s", d.msg);
  if (gc_program_run(p, &d)) fail_msg("run on %s: %s", gc_program_backend(p)->name, d.msg);
}

/* Output `name` of p (fails the test when there is none). */
static inline const gc_tensor *gc_test_output(const gc_program *p, const char *name) {
  const gc_tensor *t = gc_program_output(p, name);
  if (!t) fail_msg("the program has no output \"%s\"", name);
  return t;
}

/* ---- comparing ------------------------------------------------------------- */

/* The largest |got - want| / max(max |want|, floor) over the elements
 * (integers and bools: any difference is 1), with its element in *at. */
static inline double gc_test_tensor_err(const gc_tensor *got, const gc_tensor *want, double floor, int64_t *at) {
  double scale = floor, worst = 0;
  int64_t n = gc_tensor_numel(want);
  bool is_float = gc_dtype_is_float(want->type.dtype);
  for (int64_t i = 0; i < n; i++) {
    double w = fabs(gc_tensor_load(want, i));
    if (is_float && isfinite(w) && w > scale) scale = w;
  }
  *at = -1;
  for (int64_t i = 0; i < n; i++) {
    double a = gc_tensor_load(got, i), b = gc_tensor_load(want, i), e;
    if (!is_float) e = a == b ? 0 : 1;
    else if (isnan(a) || isnan(b) || isinf(a) || isinf(b)) e = (isnan(a) && isnan(b)) || a == b ? 0 : INFINITY;
    else e = fabs(a - b) / (scale > 0 ? scale : 1);
    if (e > worst || (*at < 0 && e > 0)) worst = e, *at = i;
  }
  return worst;
}

/* `got` has want's type and is within tol of it, measured against the
 * tensor's largest element (so elements that cancel to ~0 are judged on
 * the scale of the values they came from); floor guards all-zero tensors. */
static inline double gc_test_expect_close(const char *what, const gc_tensor *got, const gc_tensor *want,
                                          double tol, double floor) {
  if (!got) fail_msg("%s: missing", what);
  if (!gc_type_equal(&got->type, &want->type)) {
    char a[GC_TYPE_STR_MAX], b[GC_TYPE_STR_MAX];
    fail_msg("%s: %s, expected %s", what, gc_type_str(&got->type, a, sizeof a), gc_type_str(&want->type, b, sizeof b));
  }
  int64_t at;
  double e = gc_test_tensor_err(got, want, floor, &at);
  if (e > tol)
    fail_msg("%s: element %lld is %.17g, expected %.17g (relative error %.3g > %.3g)", what, (long long)at,
             gc_tensor_load(got, at), gc_tensor_load(want, at), e, tol);
  return e;
}

/* Bitwise equality of two tensors of one type. */
static inline void gc_test_expect_bitwise(const char *what, const gc_tensor *got, const gc_tensor *want) {
  if (!got || !gc_type_equal(&got->type, &want->type)) fail_msg("%s: missing or of another type", what);
  size_t es = gc_dtype_size(want->type.dtype), n = gc_tensor_bytes(want);
  if (memcmp(got->data, want->data, n) == 0) return;
  for (size_t i = 0; i < n; i += es)
    if (memcmp((const char *)got->data + i, (const char *)want->data + i, es))
      fail_msg("%s: element %zu differs: %.17g, expected %.17g", what, i / es, gc_tensor_load(got, (int64_t)(i / es)),
               gc_tensor_load(want, (int64_t)(i / es)));
}

#endif
