/* The NaN check's pieces on their own: the scan (NaN, Inf, counts, every
 * float dtype) and the report's cases the tools cannot plant -- a NaN the
 * interpreter's replay does not make (the compiled arithmetic's: the report
 * says so and names the kernel), and a kernel that wrote over an operand
 * (no replay). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <math.h>

#include "backends/nan_report.h"
#include "backends/runtime/program.h"

static void test_scan(void **state) {
  (void)state;
  float f[100] = {0};
  double g[9] = {0};
  int64_t count;
  assert_int_equal(gc_nan_scan(f, GC_F32, 100, true, &count), -1);
  assert_int_equal(count, 0);
  f[97] = INFINITY, f[41] = -INFINITY;
  assert_int_equal(gc_nan_scan(f, GC_F32, 100, false, &count), -1);   /* Inf is not NaN */
  assert_int_equal(gc_nan_scan(f, GC_F32, 100, true, &count), 41);
  assert_int_equal(count, 2);
  f[63] = -NAN, f[70] = NAN;
  assert_int_equal(gc_nan_scan(f, GC_F32, 100, false, &count), 63);
  assert_int_equal(count, 2);
  assert_int_equal(gc_nan_scan(f, GC_F32, 100, true, &count), 41);
  assert_int_equal(count, 4);
  f[0] = 3.4e38f, f[1] = -3.4e38f, f[2] = 1e-45f;   /* the largest and smallest finite values are fine */
  assert_int_equal(gc_nan_scan(f, GC_F32, 41, true, &count), -1);
  g[8] = NAN;
  g[3] = 1.7e308;
  assert_int_equal(gc_nan_scan(g, GC_F64, 9, true, &count), 8);
  assert_int_equal(count, 1);
  assert_int_equal(gc_nan_scan(g, GC_F64, 8, true, &count), -1);
  int32_t ints[4] = {-1, 0x7fc00000, 0x7f800000, 5};   /* NaN's bits, but integers */
  assert_int_equal(gc_nan_scan(ints, GC_I32, 4, true, &count), -1);
}

/* ---- the report -------------------------------------------------------------- */

static const char text[] = "graph @g {\n"
                           "  %x = input \"x\" : f32[4]\n"
                           "  %y = exp %x {label=\"act\"} : f32[4]\n"
                           "  output \"y\" = %y\n"
                           "}\n";

typedef struct {
  float x[4], y[4];
  bool shared;   /* the result written over the operand */
} fake;

static void *value(void *ctx, int node) {
  fake *f = ctx;
  if (node == 0) return f->x;
  return f->shared ? f->x : f->y;
}

static char dir[64];

/* The report for a NaN at y[2] of the one-node kernel k7 at step 3. */
static void report(fake *v, gc_diag *d) {
  gc_diag e;
  gc_graph *g = gc_parse(text, sizeof text - 1, &e);
  assert_non_null(g);
  gc_compile_options o;
  gc_compile_options_init(&o);
  o.backend = "interp";
  o.passes = "";
  o.nans.check_nans = true;
  o.nans.dir = dir;
  gc_program *p = gc_compile(g, &o, &e);
  assert_non_null(p);
  gc_nan_found found = {p, 1, 1, 7, 1, 2, 1, true, 3, value, v};
  assert_int_equal(gc_nan_report(&found, d), -1);
  gc_program_free(p);
  gc_graph_free(g);
}

static void remove_dir(void) {
  const char *files[] = {"nan-program.gcir", "nan-kernel.gcir", "nan-inputs.safetensors"};
  for (int i = 0; i < 3; i++) {
    char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, files[i]);
    unlink(p);
  }
  rmdir(dir);
}

static void test_replay_stays_finite(void **state) {
  (void)state;
  fake v = {{0, 1, 2, 3}, {1, 2.7f, NAN, 20}, false};
  gc_diag d;
  report(&v, &d);
  char want[1024];
  snprintf(want, sizeof want,
           "NaN in step 3, forward (kernel k7): 1 of the 4 values of\n"
           "  %%1 = exp %%0 {label=\"act\"} : f32[4]   (line 3 of %s/nan-program.gcir)\n"
           "  are NaN, the first at [2]\n"
           "  replayed in the interpreter, kernel k7's nodes stay finite: the NaN comes from the compiled code's "
           "arithmetic\n"
           "  reproducer: gc-run %s/nan-kernel.gcir --inputs %s/nan-inputs.safetensors --check-nans --nan-dir %s/again",
           dir, dir, dir, dir);
  assert_string_equal(d.msg, want);
  remove_dir();
}

static void test_operand_overwritten(void **state) {
  (void)state;
  fake v = {{0, 1, NAN, 3}, {0}, true};
  gc_diag d;
  report(&v, &d);
  if (!strstr(d.msg, "\n  no replay: the kernel wrote a result over its operand %0\n")) fail_msg("%s", d.msg);
  remove_dir();
}

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/gc_nan_report_XXXXXX");
  return mkdtemp(dir) ? 0 : -1;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scan),
      cmocka_unit_test_setup(test_replay_stays_finite, setup),
      cmocka_unit_test_setup(test_operand_overwritten, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
