/* backends/llvm compile: N jobs on T threads give the same object bytes,
 * in job order, whatever T; a failing job is reported as the first failing
 * job in job order, whatever T. */
#include "tests/llvm/llvm_fixture.h"

enum { N_JOBS = 8 };

static gc_host host;
static char ir[N_JOBS][SAXPY_IR_MAX];
static char names[N_JOBS][16];

static int setup(void **state) {
  (void)state;
  host = test_host();
  for (int i = 0; i < N_JOBS; i++) {
    snprintf(names[i], sizeof names[i], "k%d", i);
    saxpy_ir(ir[i], names[i], i);
  }
  return 0;
}

static void saxpy_jobs(gc_compile_job *jobs) {
  for (int i = 0; i < N_JOBS; i++)
    jobs[i] = (gc_compile_job){.name = names[i], .build = build_from_text, .arg = ir[i]};
}

static void compile_or_fail(const gc_compile_job *jobs, int n, int threads, bool text,
                            gc_compiled *out, gc_compile_stats *stats) {
  gc_jobs_options o = {.host = &host, .threads = threads, .want_ir = text, .want_asm = text};
  gc_diag d = {0};
  if (gc_compile_jobs(jobs, n, &o, out, stats, &d)) fail_msg("gc_compile_jobs: %s", d.msg);
}

static void results_do_not_depend_on_threads(void **state) {
  (void)state;
  gc_compile_job jobs[N_JOBS];
  saxpy_jobs(jobs);
  gc_compiled one[N_JOBS], two[N_JOBS], many[N_JOBS];
  gc_compile_stats stats;
  compile_or_fail(jobs, N_JOBS, 1, false, one, &stats);
  assert_int_equal(stats.compiled, N_JOBS);
  assert_int_equal(stats.from_cache, 0);
  print_message("%d jobs on 1 thread: %.3f s\n", N_JOBS, stats.seconds);
  compile_or_fail(jobs, N_JOBS, 2, false, two, &stats);
  print_message("%d jobs on 2 threads: %.3f s\n", N_JOBS, stats.seconds);
  compile_or_fail(jobs, N_JOBS, 16, false, many, &stats);     /* more threads than jobs */
  for (int i = 0; i < N_JOBS; i++) {
    assert_non_null(one[i].object);
    assert_false(one[i].from_cache);
    assert_null(one[i].asm_text);
    assert_int_equal(one[i].object_len, two[i].object_len);
    assert_memory_equal(one[i].object, two[i].object, one[i].object_len);
    assert_int_equal(one[i].object_len, many[i].object_len);
    assert_memory_equal(one[i].object, many[i].object, one[i].object_len);
    if (i > 0)    /* distinct kernels: the results are not all one object */
      assert_true(one[i].object_len != one[0].object_len ||
                  memcmp(one[i].object, one[0].object, one[0].object_len) != 0);
  }

  /* in job order: out[i] is kernel k<i>, which adds i */
  gc_diag d = {0};
  gc_jit *j = gc_jit_new(&d);
  assert_non_null(j);
  for (int i = 0; i < N_JOBS; i++)
    if (gc_jit_add_object(j, two[i].object, two[i].object_len, names[i], &d)) fail_msg("%s", d.msg);
  for (int i = 0; i < N_JOBS; i++) {
    saxpy_fn fn = (saxpy_fn)gc_jit_lookup(j, names[i], &d);
    if (!fn) fail_msg("%s", d.msg);
    check_saxpy(fn, 77, i);
  }
  gc_jit_free(j);
  gc_compiled_free(one, N_JOBS);
  gc_compiled_free(two, N_JOBS);
  gc_compiled_free(many, N_JOBS);
  assert_null(one[0].object);
}

static void text_forms_come_with_each_job(void **state) {
  (void)state;
  gc_compile_job jobs[N_JOBS];
  saxpy_jobs(jobs);
  gc_compiled one[N_JOBS], two[N_JOBS];
  compile_or_fail(jobs, N_JOBS, 1, true, one, NULL);
  compile_or_fail(jobs, N_JOBS, 2, true, two, NULL);
  for (int i = 0; i < N_JOBS; i++) {
    char def[160], label[160];
    snprintf(def, sizeof def, "define void @%s(", names[i]);
    snprintf(label, sizeof label, "\n%s:", names[i]);
    assert_non_null(strstr(one[i].ir_text, def));
    assert_non_null(strstr(one[i].asm_text, label));
    assert_string_equal(one[i].ir_text, two[i].ir_text);
    assert_string_equal(one[i].asm_text, two[i].asm_text);
    assert_memory_equal(one[i].object, two[i].object, one[i].object_len);
  }
  gc_compiled_free(one, N_JOBS);
  gc_compiled_free(two, N_JOBS);
}

static LLVMModuleRef build_broken(LLVMContextRef ctx, void *arg, gc_diag *d) {
  (void)arg, (void)d;
  return broken_module(ctx);
}

static LLVMModuleRef build_nothing(LLVMContextRef ctx, void *arg, gc_diag *d) {
  (void)ctx, (void)arg, (void)d;
  return NULL;
}

static void the_first_failing_job_is_reported(void **state) {
  (void)state;
  gc_compile_job jobs[N_JOBS];
  saxpy_jobs(jobs);
  jobs[3].build = build_broken;            /* fails verification */
  jobs[6].arg = "define void @k6( {";      /* fails to parse */
  for (int threads = 1; threads <= 2; threads++) {
    gc_compiled out[N_JOBS];
    gc_jobs_options o = {.host = &host, .threads = threads};
    gc_diag d = {0};
    assert_int_equal(gc_compile_jobs(jobs, N_JOBS, &o, out, NULL, &d), -1);
    if (strncmp(d.msg, "kernel k3: ", 11) != 0 || !strstr(d.msg, "terminator"))
      fail_msg("%d threads: %s", threads, d.msg);
    for (int i = 0; i < N_JOBS; i++) assert_null(out[i].object);   /* nothing half-done */
  }
  jobs[3].build = build_from_text;
  gc_compiled out[N_JOBS];
  gc_jobs_options o = {.host = &host, .threads = 2};
  gc_diag d = {0};
  assert_int_equal(gc_compile_jobs(jobs, N_JOBS, &o, out, NULL, &d), -1);
  if (strncmp(d.msg, "kernel k6: cannot parse", 23) != 0) fail_msg("%s", d.msg);

  jobs[0].build = build_nothing;           /* a builder that says nothing */
  assert_int_equal(gc_compile_jobs(jobs, 1, &o, out, NULL, &d), -1);
  assert_string_equal(d.msg, "kernel k0: build failed");

  assert_int_equal(gc_compile_jobs(jobs, 0, &o, out, NULL, &d), 0);  /* nothing to do */
  o.host = NULL;
  assert_int_equal(gc_compile_jobs(jobs, 1, &o, out, NULL, &d), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(results_do_not_depend_on_threads),
      cmocka_unit_test(text_forms_come_with_each_job),
      cmocka_unit_test(the_first_failing_job_is_reported),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
