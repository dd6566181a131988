/* The default pipeline run on its own dump prints it back unchanged
 * (docs/ir.md, "Kernel regions"): gc-opt on a model's training step, then
 * gc-opt on what it printed.  qwen2_tiny's step used to come back with a
 * transpose computed twice in one kernel made one (fuse recomputes it in
 * each kernel reading it, and a later round merged two such kernels);
 * t5_tiny's with a dot's epilogue moved to the next kernel (fuse groups in
 * node order, and its dump's order is not the order it was given). */
#include "tests/tools/tool_fixture.h"
#include "io/file.h"

#include <stdio.h>
#include <string.h>

/* The line where a and b first differ, or 0. */
static int first_difference(const char *a, size_t na, const char *b, size_t nb) {
  int line = 1;
  for (size_t i = 0; i < na || i < nb; i++) {
    if (i >= na || i >= nb || a[i] != b[i]) return line;
    line += a[i] == '\n';
  }
  return 0;
}

static void dump_runs_back_unchanged(gc_fixture *f, const char *model) {
  char args[256];
  snprintf(args, sizeof args, "model:%s --train --batch 2 --seq 8 -o once.gcir", model);
  if (fixture_run(f, "gc-opt", args)) fail_msg("gc-opt %s: %s", args, f->err);
  if (fixture_run(f, "gc-opt", "once.gcir -o twice.gcir")) fail_msg("gc-opt once.gcir: %s", f->err);
  size_t na, nb;
  char *a = fixture_slurp(f, "once.gcir", &na), *b = fixture_slurp(f, "twice.gcir", &nb);
  assert_non_null(strstr(a, "kernel @k1("));
  assert_non_null(strstr(a, "offset="));
  int line = first_difference(a, na, b, nb);
  if (line) fail_msg("%s: the pipeline on its own dump changes line %d", model, line);
  free(a), free(b);
}

static void test_qwen2_step(void **state) { dump_runs_back_unchanged(*state, "qwen2_tiny"); }
static void test_t5_step(void **state) { dump_runs_back_unchanged(*state, "t5_tiny"); }

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_qwen2_step, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_t5_step, fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
