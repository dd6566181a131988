/* No limit below what the compiler takes: a kernel with 5,000 operands
 * prints and reads back (the parser used to refuse more than 4096 values in
 * a kernel's operands), and runs.  fuse keeps a kernel to 256 nodes, so the
 * kernel is written here in its planned form (docs/ir.md) rather than made
 * by the pipeline.  On the interpreter: llvm compiles a kernel of 5,000
 * buffers in half a minute, too long for a test. */
#include "tests/tools/tool_fixture.h"
#include "io/file.h"
#include "io/safetensors.h"

#include <stdio.h>
#include <string.h>

enum { N = 5000 };

/* The planned graph @wide: params p0..p4999 (f32[4]) added one after
 * another in one kernel whose operands are all 5,000, as gc-opt prints it. */
static char *planned_text(size_t *len_out) {
  size_t cap = (size_t)N * 120 + 256, len = 0;
  char *text = malloc(cap);
  assert_non_null(text);
  len += (size_t)snprintf(text + len, cap - len, "graph @wide {\n");
  for (int i = 0; i < N; i++) len += (size_t)snprintf(text + len, cap - len, "  %%%d = param \"p%d\" : f32[4]\n", i, i);
  len += (size_t)snprintf(text + len, cap - len, "  kernel @k0(");
  for (int i = 0; i < N; i++) len += (size_t)snprintf(text + len, cap - len, "%s%%%d", i ? ", " : "", i);
  len += (size_t)snprintf(text + len, cap - len, ") -> (%%%d) {\n", 2 * N - 2);
  for (int i = 1; i < N; i++)
    len += (size_t)snprintf(text + len, cap - len, "    %%%d = add %%%d, %%%d%s : f32[4]\n", N + i - 1,
                            i == 1 ? 0 : N + i - 2, i, i == N - 1 ? " {offset=0}" : "");
  len += (size_t)snprintf(text + len, cap - len, "  }\n  output \"sum\" = %%%d\n}\n", 2 * N - 2);
  assert_true(len < cap);
  *len_out = len;
  return text;
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
  size_t len, printed_len;
  char *text = planned_text(&len);
  fixture_write(f, "planned.gcir", text, len);
  write_params(f);
  /* it reads back and prints as written */
  if (fixture_run(f, "gc-opt", "planned.gcir --passes= -o printed.gcir")) fail_msg("gc-opt: %s", f->err);
  char *printed = fixture_slurp(f, "printed.gcir", &printed_len);
  assert_int_equal(printed_len, len);
  assert_memory_equal(printed, text, len);
  free(printed);
  free(text);
  /* it reads back and runs as written */
  if (fixture_run(f, "gc-run", "planned.gcir --passes= --backend interp --params P.safetensors -o out.safetensors"))
    fail_msg("gc-run: %s", f->err);
  char p[256];
  gc_diag d;
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
