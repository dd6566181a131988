/* No limit below what the compiler makes: the sum of 5,000 params fuses into
 * one kernel with 5,000 operands, and its planned dump reads back and runs
 * (the parser used to refuse it: "more than 4096 values in the kernel's
 * operands").  On the interpreter: llvm compiles a kernel of 5,000 buffers
 * in half a minute, too long for a test. */
#include "tests/tools/tool_fixture.h"
#include "io/file.h"
#include "io/safetensors.h"

#include <stdio.h>
#include <string.h>

enum { N = 5000 };

/* graph @wide: params p0..p4999 (f32[4]) added one after another. */
static void write_graph(const gc_fixture *f) {
  size_t cap = (size_t)N * 80 + 256, len = 0;
  char *text = malloc(cap);
  assert_non_null(text);
  len += (size_t)snprintf(text + len, cap - len, "graph @wide {\n");
  for (int i = 0; i < N; i++) len += (size_t)snprintf(text + len, cap - len, "  %%p%d = param \"p%d\" : f32[4]\n", i, i);
  len += (size_t)snprintf(text + len, cap - len, "  %%s1 = add %%p0, %%p1 : f32[4]\n");
  for (int i = 2; i < N; i++) len += (size_t)snprintf(text + len, cap - len, "  %%s%d = add %%s%d, %%p%d : f32[4]\n", i, i - 1, i);
  len += (size_t)snprintf(text + len, cap - len, "  output \"sum\" = %%s%d\n}\n", N - 1);
  assert_true(len < cap);
  fixture_write(f, "wide.gcir", text, len);
  free(text);
}

/* p<i>[k] = i % 7 + k: the sum is exact in f32. */
static void write_params(const gc_fixture *f) {
  gc_tensor_map m;
  gc_tensor_map_init(&m);
  gc_type t = gc_type_make(GC_F32, 1, (int64_t[]){4});
  for (int i = 0; i < N; i++) {
    gc_tensor *x = gc_tensor_new(&t);
    for (int k = 0; k < 4; k++) ((float *)x->data)[k] = (float)(i % 7 + k);
    char name[16];
    snprintf(name, sizeof name, "p%d", i);
    gc_tensor_map_put(&m, name, x);
  }
  char p[256];
  gc_diag d;
  fixture_path(f, "P.safetensors", p, sizeof p);
  if (gc_safetensors_write(p, &m, &d)) fail_msg("%s", d.msg);
  gc_tensor_map_clear(&m);
}

static void test_kernel_with_5000_operands(void **state) {
  gc_fixture *f = *state;
  write_graph(f);
  write_params(f);
  if (fixture_run(f, "gc-opt", "wide.gcir -o planned.gcir")) fail_msg("gc-opt: %s", f->err);
  char p[256];
  gc_diag d;
  size_t len;
  fixture_path(f, "planned.gcir", p, sizeof p);
  char *text = gc_read_file(p, &len, &d);
  if (!text) fail_msg("%s", d.msg);
  /* one kernel, its operands the 5,000 params */
  const char *head = strstr(text, "kernel @k0(");
  assert_non_null(head);
  assert_null(strstr(head + 1, "kernel @"));
  int operands = 1;
  for (const char *c = head; *c != ')'; c++) operands += *c == ',';
  assert_int_equal(operands, N);
  free(text);
  /* it reads back and runs as written */
  if (fixture_run(f, "gc-run", "planned.gcir --passes= --backend interp --params P.safetensors -o out.safetensors"))
    fail_msg("gc-run: %s", f->err);
  gc_tensor_map out;
  gc_tensor_map_init(&out);
  fixture_path(f, "out.safetensors", p, sizeof p);
  if (gc_safetensors_read(p, &out, &d)) fail_msg("%s", d.msg);
  const gc_tensor *sum = gc_tensor_map_get(&out, "sum");
  assert_non_null(sum);
  int cycles = 0;
  for (int i = 0; i < N; i++) cycles += i % 7;
  for (int k = 0; k < 4; k++) assert_true(gc_tensor_load(sum, k) == (double)(cycles + N * k));
  gc_tensor_map_clear(&out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_kernel_with_5000_operands, fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
