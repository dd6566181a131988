/* Long graphs through the tools: 200,000 chained nodes through gc-opt's
 * default pipeline (on a 1 MiB stack: nothing recurses once per node), whose
 * dump reads back; chains through gc-run (llvm) computing the right values,
 * and 20,000 unfused one-node kernels within 1 GiB of address space (the
 * llvm backend kept an array of every node per kernel: 1.6 GB here); a
 * file of 20,000 params, kernels and outputs read back as printed.
 * (Shorter chains under the sanitizers.) */
#include "tests/tools/tool_fixture.h"
#include "io/safetensors.h"

#include <stdarg.h>
#include <stdio.h>

/* Writes NAME: %v0 = add %x, %x, %vI = add %vI-1, %x, ... (n adds) of
 * type TYPE, output "y" the last. */
static void write_chain(const gc_fixture *f, const char *name, int n, const char *type) {
  char p[256];
  fixture_path(f, name, p, sizeof p);
  FILE *fp = fopen(p, "w");
  assert_non_null(fp);
  fprintf(fp, "graph @chain {\n  %%x = input \"x\" : %s\n", type);
  for (int i = 0; i < n; i++)
    if (i) fprintf(fp, "  %%v%d = add %%v%d, %%x : %s\n", i, i - 1, type);
    else fprintf(fp, "  %%v0 = add %%x, %%x : %s\n", type);
  fprintf(fp, "  output \"y\" = %%v%d\n}\n", n - 1);
  assert_int_equal(fclose(fp), 0);
}

/* Under AddressSanitizer (a debug build, ten times slower) the chains are
 * a quarter as long, and address space is not bounded (its shadow takes
 * terabytes of it). */
#if defined(__SANITIZE_ADDRESS__)
#define GC_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GC_SANITIZED 1
#endif
#endif
#ifdef GC_SANITIZED
enum { LONG_CHAIN = 50000, CHAIN = 5000 };
static const char *const memory_bound = "";
#else
enum { LONG_CHAIN = 200000, CHAIN = 20000 };
static const char *const memory_bound = "ulimit -v 1048576; ";
#endif

static int run_limited(gc_fixture *f, const char *tool, const char *limits, const char *args) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "cd '%s' && (%s '%s/%s' %s) >stdout.txt 2>stderr.txt", f->dir, limits, fixture_bin_dir(), tool, args);
  int st = system(cmd);
  fixture_read(f, "stdout.txt", f->out, sizeof f->out);
  fixture_read(f, "stderr.txt", f->err, sizeof f->err);
  assert_true(WIFEXITED(st));
  return WEXITSTATUS(st);
}

static bool same_files(const gc_fixture *f, const char *a, const char *b) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "cd '%s' && cmp -s '%s' '%s'", f->dir, a, b);
  return system(cmd) == 0;
}

/* x = 1 + i/8 over f64[4] into NAME. */
static void write_x(const gc_fixture *f, const char *name) {
  gc_type t = {.dtype = GC_F64, .rank = 1, .dims = {4}};
  gc_tensor_map m;
  gc_tensor_map_init(&m);
  gc_tensor *x = gc_tensor_new(&t);
  for (int i = 0; i < 4; i++) ((double *)x->data)[i] = 1 + i / 8.0;
  gc_tensor_map_put(&m, "x", x);
  char p[256];
  gc_diag d;
  fixture_path(f, name, p, sizeof p);
  if (gc_safetensors_write(p, &m, &d) < 0) fail_msg("%s", d.msg);
  gc_tensor_map_clear(&m);
}

/* y of O.safetensors is (n + 1) x, exactly (small integers times x). */
static void check_y(const gc_fixture *f, int n) {
  char p[256];
  gc_diag d;
  gc_tensor_map m;
  gc_tensor_map_init(&m);
  fixture_path(f, "o.safetensors", p, sizeof p);
  if (gc_safetensors_read(p, &m, &d) < 0) fail_msg("%s", d.msg);
  const gc_tensor *y = gc_tensor_map_get(&m, "y");
  assert_non_null(y);
  assert_int_equal(y->type.dtype, GC_F64);
  for (int i = 0; i < 4; i++) assert_true(((double *)y->data)[i] == (n + 1) * (1 + i / 8.0));
  gc_tensor_map_clear(&m);
}

static void test_gc_opt_200k_chain(void **state) {
  gc_fixture *f = *state;
  write_chain(f, "chain.gcir", LONG_CHAIN, "f32[4]");
  assert_int_equal(run_limited(f, "gc-opt", "ulimit -s 1024;", "chain.gcir -o out.gcir"), 0);
  /* the dump reads back as printed */
  assert_int_equal(run_limited(f, "gc-opt", "ulimit -s 1024;", "--passes= out.gcir -o again.gcir"), 0);
  assert_true(same_files(f, "out.gcir", "again.gcir"));
}

static void test_gc_run_chains(void **state) {
  gc_fixture *f = *state;
  char limits[128];
  snprintf(limits, sizeof limits, "ulimit -s 1024; %s", memory_bound);
  write_x(f, "x.safetensors");
  /* the default pipeline: kernels of a few hundred adds */
  write_chain(f, "chain.gcir", CHAIN, "f64[4]");
  assert_int_equal(run_limited(f, "gc-run", limits, "chain.gcir --inputs x.safetensors -o o.safetensors"), 0);
  check_y(f, CHAIN);
  /* no passes: each add a kernel of its own */
  assert_int_equal(run_limited(f, "gc-run", limits, "chain.gcir --passes= --inputs x.safetensors -o o.safetensors"), 0);
  check_y(f, CHAIN);
}

/* 20,000 params, each read by a kernel of its own bound to an output (not
 * planned: the verifier's check of a plan still compares every pair of
 * stored values). */
static void test_many_kernels_params_outputs(void **state) {
  gc_fixture *f = *state;
  enum { N = 20000 };
  char p[256];
  fixture_path(f, "wide.gcir", p, sizeof p);
  FILE *fp = fopen(p, "w");
  assert_non_null(fp);
  fprintf(fp, "graph @wide {\n");
  for (int i = 0; i < N; i++) fprintf(fp, "  %%%d = param \"p%d\" : f32[2]\n", i, i);
  for (int i = 0; i < N; i++)
    fprintf(fp, "  kernel @k%d(%%%d) -> (%%%d) {\n    %%%d = neg %%%d : f32[2]\n  }\n", i, i, N + i, N + i, i);
  for (int i = 0; i < N; i++) fprintf(fp, "  output \"o%d\" = %%%d\n", i, N + i);
  fprintf(fp, "}\n");
  assert_int_equal(fclose(fp), 0);
  assert_int_equal(run_limited(f, "gc-opt", "ulimit -s 1024;", "--passes= wide.gcir -o out.gcir"), 0);
  assert_true(same_files(f, "wide.gcir", "out.gcir"));
}

int main(int argc, char **argv) {
  if (argc > 1) cmocka_set_test_filter(argv[1]);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_gc_opt_200k_chain, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_gc_run_chains, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_many_kernels_params_outputs, fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
