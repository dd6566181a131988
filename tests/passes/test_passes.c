/* IR-in/IR-out tests of the passes (as QBE's): each tests/passes/cases/NAME.gcir
 * holds a graph, the pipeline to run on it and the expected printed result:
 *
 *   # pipeline: simplify,dce
 *   graph @t { ... }
 *   # expect:
 *   # graph @t {
 *   #   ...
 *   # }
 *
 * For every case the printed result must equal the expectation, it must
 * parse back (every dump is a program), and the input graph, the result and
 * the re-parsed result must give the same outputs and updates on the
 * interpreter (random params and inputs; f64 to 1e-12 relative, f32 1e-6).
 * GC_UPDATE_EXPECT=1 rewrites the expectations (then read the diff). */
#include "tests/case_file.h"
#include "tests/interp_oracle.h"
#include "backends/interp/interp.h"
#include "backends/runtime/bench.h"
#include "io/file.h"
#include "passes/pass.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#ifndef GC_SOURCE_DIR
#define GC_SOURCE_DIR "."
#endif

static void same_results(const char *file, const gc_tensor_map *a, const gc_tensor_map *b) {
  assert_int_equal(a->n, b->n);
  for (int i = 0; i < a->n; i++) {
    const gc_tensor *x = a->tensors[i], *y = gc_tensor_map_get(b, a->names[i]);
    if (!y) fail_msg("%s: result \"%s\" is missing after the passes", file, a->names[i]);
    assert_true(gc_type_equal(&x->type, &y->type));
    double tol = x->type.dtype == GC_F32 ? 1e-6 : 1e-12;
    for (int64_t k = 0; k < gc_tensor_numel(x); k++)
      if (!gc_close(gc_tensor_load(x, k), gc_tensor_load(y, k), tol))
        fail_msg("%s: \"%s\"[%lld] = %.17g before the passes, %.17g after", file, a->names[i], (long long)k,
                 gc_tensor_load(x, k), gc_tensor_load(y, k));
  }
}

static int checked, failed;

static void run_case(const char *dir, const char *name) {
  gc_diag d;
  size_t len;
  char *text = gc_case_read(dir, name, &len);
  char *pipeline = gc_case_header(text, "pipeline"), *high = gc_case_header(text, "int-high");
  if (!pipeline) fail_msg("%s: no '# pipeline:' line", name);
  gc_graph *g = gc_parse(text, len, &d);
  if (!g || gc_verify(g, &d)) fail_msg("%s:%d:%d: %s", name, d.line, d.col, d.msg);
  gc_graph *out = gc_run_passes(gc_graph_clone(g), pipeline, NULL, &d);
  if (!out) fail_msg("%s: %s", name, d.msg);
  char *printed = gc_print(out), *want = gc_case_expectation(text);
  if (getenv("GC_UPDATE_EXPECT")) gc_case_update_expectation(dir, name, text, printed);
  else if (strcmp(printed, want) != 0) {   /* reported, and the other cases still checked */
    print_error("%s: after %s the graph prints as\n%s\nbut the case expects\n%s\n", name, pipeline, printed, want);
    failed++;
  }
  gc_graph *again = gc_parse(printed, strlen(printed), &d);
  if (!again || gc_verify(again, &d)) fail_msg("%s: the result does not parse back: %s", name, d.msg);

  gc_tensor_map params, inputs, before, after, reparsed;
  gc_tensor_map_init(&params);
  gc_tensor_map_init(&inputs);
  int64_t int_high = high ? atoll(high) : 1;
  if (gc_random_params(g, &params, 1, int_high, &d) || gc_random_inputs(g, &inputs, 2, int_high, NULL, &d))
    fail_msg("%s", d.msg);
  gc_test_interp_all(g, &params, &inputs, &before);
  gc_test_interp_all(out, &params, &inputs, &after);
  gc_test_interp_all(again, &params, &inputs, &reparsed);
  same_results(name, &before, &after);
  same_results(name, &before, &reparsed);
  checked++;

  gc_tensor_map_clear(&params), gc_tensor_map_clear(&inputs);
  gc_tensor_map_clear(&before), gc_tensor_map_clear(&after), gc_tensor_map_clear(&reparsed);
  gc_graph_free(again), gc_graph_free(out), gc_graph_free(g);
  free(printed), free(want), free(pipeline), free(high), free(text);
}

static void test_cases(void **state) {
  (void)state;
  const char *dir = GC_SOURCE_DIR "/tests/passes/cases";
  char *names[1024];
  int n = gc_case_files(dir, ".gcir", names, 1024);
  for (int i = 0; i < n; i++) {
    run_case(dir, names[i]);
    free(names[i]);
  }
  print_message("%d pass cases checked, %d printed other than expected\n", checked, failed);
  assert_true(checked > 0);
  assert_int_equal(failed, 0);
}

static void test_pipeline_errors(void **state) {
  (void)state;
  gc_diag d;
  assert_int_equal(gc_pipeline_check("simplify,nope", &d), -1);
  assert_non_null(strstr(d.msg, "unknown pass 'nope'"));
  assert_non_null(strstr(d.msg, "simplify"));
  assert_int_equal(gc_pipeline_check("", &d), 0);
  assert_int_equal(gc_pipeline_check(" simplify , cse ", &d), 0);
  assert_int_equal(gc_pipeline_check("  ", &d), 0);
  /* an empty name between commas or at an end is a mistake, not skipped */
  const char *empty[] = {",", "simplify,,dce", "simplify, ,dce", "simplify,", ",dce"};
  for (int i = 0; i < 5; i++) {
    assert_int_equal(gc_pipeline_check(empty[i], &d), -1);
    assert_non_null(strstr(d.msg, "an empty pass name"));
  }
  /* the lists the dump flags take split the same way */
  char buf[64];
  const char *names[4];
  assert_int_equal(gc_pass_names("cse,,dce", buf, sizeof buf, names, 4, &d), -1);
  assert_int_equal(gc_pass_names(" cse , dce", buf, sizeof buf, names, 4, &d), 2);
  assert_string_equal(names[1], "dce");
  assert_int_equal(gc_pass_names("a,b,c", buf, sizeof buf, names, 2, &d), -1);
  assert_true(gc_pass_listed("cse,dce", "dce") && !gc_pass_listed("cse,dce", "ce") && !gc_pass_listed(NULL, "cse"));
  assert_true(gc_pass_listed("cse , dce", "cse") && gc_pass_listed(" cse, dce ", "dce") && !gc_pass_listed("cs e", "cs"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cases),
      cmocka_unit_test(test_pipeline_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
