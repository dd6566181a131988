/* backends/llvm codegen + jit: a loop over floats compiles for the host,
 * links into the process and computes the right numbers; the code uses the
 * host's vector width; every function carries the target's CPU; broken
 * modules and link failures are error messages naming what is wrong. */
#include "tests/llvm/llvm_fixture.h"
#include "io/file.h"

#include <llvm-c/Target.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

static gc_host host;

static int setup(void **state) {
  (void)state;
  host = test_host();
  return 0;
}

/* A JIT holding `text` compiled for h. */
static gc_jit *jit_with(const gc_host *h, const char *text, const char *name) {
  gc_machine_output out = compile_text(h, text, false, false);
  gc_diag d = {0};
  gc_jit *j = gc_jit_new(&d);
  if (!j) fail_msg("gc_jit_new: %s", d.msg);
  if (gc_jit_add_object(j, out.object, out.object_len, name, &d)) fail_msg("add: %s", d.msg);
  gc_machine_output_free(&out);
  return j;
}

static void saxpy_runs_through_the_jit(void **state) {
  (void)state;
  char ir[SAXPY_IR_MAX];
  gc_jit *j = jit_with(&host, saxpy_ir(ir, "saxpy", 0), "saxpy");
  gc_diag d = {0};
  saxpy_fn fn = (saxpy_fn)gc_jit_lookup(j, "saxpy", &d);
  if (!fn) fail_msg("lookup: %s", d.msg);
  /* empty, shorter than a vector, exact vectors, vectors plus tails */
  const int64_t sizes[] = {0, 1, 7, 15, 16, 17, 64, 1000, 1003, 4099};
  for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) check_saxpy(fn, sizes[k], 0);
  gc_jit_free(j);
}

static void host_code_uses_the_widest_vectors(void **state) {
  (void)state;
  char ir[SAXPY_IR_MAX];
  gc_machine_output out = compile_text(&host, saxpy_ir(ir, "saxpy", 0), true, true);
  assert_non_null(out.asm_text);
  assert_non_null(strstr(out.asm_text, "saxpy"));
  assert_non_null(strstr(out.ir_text, " x float>"));             /* vectorised */
  if (!gc_features_have(host.features, "avx512f")) {
    gc_machine_output_free(&out);
    print_message("host %s has no avx512f: zmm check skipped\n", host.cpu);
    skip();
  }
  assert_int_equal(host.vector_bits, 512);
  assert_non_null(strstr(out.asm_text, "%zmm"));
  gc_machine_output_free(&out);
}

/* Another target through the same path: AVX2 (haswell) code uses ymm and
 * never zmm; it runs here too when the host has AVX2 and FMA. */
static void another_cpu_gets_its_own_code(void **state) {
  (void)state;
  gc_host h;
  gc_diag d = {0};
  assert_int_equal(gc_host_for_cpu(&h, "haswell", "+avx,+avx2,+fma,+f16c,+bmi2", &d), 0);
  assert_int_equal(h.vector_bits, 256);
  char ir[SAXPY_IR_MAX];
  gc_machine_output out = compile_text(&h, saxpy_ir(ir, "saxpy_hsw", 0), true, true);
  assert_non_null(strstr(out.asm_text, "%ymm"));
  assert_null(strstr(out.asm_text, "%zmm"));
  assert_non_null(strstr(out.ir_text, "\"target-cpu\"=\"haswell\""));
  gc_machine_output_free(&out);
  if (gc_features_have(host.features, "avx2") && gc_features_have(host.features, "fma")) {
    gc_jit *j = jit_with(&h, ir, "saxpy_hsw");
    saxpy_fn fn = (saxpy_fn)gc_jit_lookup(j, "saxpy_hsw", &d);
    if (!fn) fail_msg("lookup: %s", d.msg);
    check_saxpy(fn, 1003, 0);
    gc_jit_free(j);
  }
}

static const char two_functions_ir[] =
    "declare float @llvm.sqrt.f32(float)\n"
    "declare float @external_fn(float)\n"
    "define float @first(float %x) {\n"
    "  %r = call float @llvm.sqrt.f32(float %x)\n"
    "  ret float %r\n"
    "}\n"
    "define internal float @second(float %x) noinline {\n"
    "  %r = call float @external_fn(float %x)\n"
    "  ret float %r\n"
    "}\n"
    "define float @third(float %x) \"target-cpu\"=\"i386\" {\n"
    "  %r = call float @second(float %x)\n"
    "  ret float %r\n"
    "}\n";

static char *string_attr(LLVMValueRef fn, const char *kind) {
  LLVMAttributeRef a = LLVMGetStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, kind,
                                                     (unsigned)strlen(kind));
  if (!a) return NULL;
  unsigned len;
  const char *v = LLVMGetStringAttributeValue(a, &len);
  return strndup(v, len);
}

static void every_function_carries_the_target(void **state) {
  (void)state;
  gc_diag d = {0};
  LLVMTargetMachineRef tm = gc_host_target_machine(&host, &d);
  assert_non_null(tm);
  LLVMContextRef ctx = LLVMContextCreate();
  LLVMModuleRef m = parse_ir(ctx, "two", two_functions_ir, &d);
  if (!m) fail_msg("%s", d.msg);
  gc_machine_prepare(m, tm);
  assert_string_equal(LLVMGetTarget(m), host.triple);
  assert_true(strlen(LLVMGetDataLayoutStr(m)) > 0);
  int definitions = 0;
  for (LLVMValueRef fn = LLVMGetFirstFunction(m); fn; fn = LLVMGetNextFunction(fn)) {
    char *cpu = string_attr(fn, "target-cpu"), *features = string_attr(fn, "target-features");
    if (LLVMIsDeclaration(fn)) {
      assert_null(cpu);
    } else {
      definitions++;
      assert_non_null(cpu);
      assert_non_null(features);
      assert_string_equal(cpu, host.cpu);          /* "i386" on @third replaced */
      assert_string_equal(features, host.features);
    }
    free(cpu);
    free(features);
  }
  assert_int_equal(definitions, 3);
  LLVMDisposeModule(m);
  LLVMContextDispose(ctx);
  LLVMDisposeTargetMachine(tm);

  /* and the optimised IR the backend keeps says so too */
  gc_machine_output out = compile_text(&host, two_functions_ir, true, false);
  char want[128];
  snprintf(want, sizeof want, "\"target-cpu\"=\"%s\"", host.cpu);
  assert_non_null(strstr(out.ir_text, want));
  assert_null(strstr(out.ir_text, "\"target-cpu\"=\"i386\""));
  gc_machine_output_free(&out);
}

static void undefined_symbol_is_an_error_naming_it(void **state) {
  (void)state;
  const char *ir =
      "declare void @gc_test_no_such_function(ptr)\n"
      "define void @calls_missing(ptr %p) {\n"
      "  call void @gc_test_no_such_function(ptr %p)\n"
      "  ret void\n"
      "}\n";
  gc_jit *j = jit_with(&host, ir, "calls_missing");
  gc_diag d = {0};
  assert_null(gc_jit_lookup(j, "calls_missing", &d));
  if (!strstr(d.msg, "gc_test_no_such_function")) fail_msg("message: %s", d.msg);
  assert_non_null(strstr(d.msg, "calls_missing"));
  d.msg[0] = 0;                          /* asked again: the cause again */
  assert_null(gc_jit_lookup(j, "calls_missing", &d));
  if (!strstr(d.msg, "gc_test_no_such_function")) fail_msg("message: %s", d.msg);
  /* a symbol nobody defines: named too; and the JIT still works after */
  assert_null(gc_jit_lookup(j, "gc_test_nowhere", &d));
  if (!strstr(d.msg, "gc_test_nowhere")) fail_msg("message: %s", d.msg);
  char sax[SAXPY_IR_MAX];
  gc_machine_output out = compile_text(&host, saxpy_ir(sax, "saxpy", 3), false, false);
  assert_int_equal(gc_jit_add_object(j, out.object, out.object_len, "saxpy", &d), 0);
  saxpy_fn fn = (saxpy_fn)gc_jit_lookup(j, "saxpy", &d);
  assert_non_null(fn);
  check_saxpy(fn, 100, 3);
  /* the same definition again */
  d.msg[0] = 0;
  assert_int_equal(gc_jit_add_object(j, out.object, out.object_len, "saxpy_again", &d), -1);
  if (!strstr(d.msg, "saxpy") || !strstr(d.msg, "uplicate")) fail_msg("message: %s", d.msg);
  /* not an object file at all */
  assert_int_equal(gc_jit_add_object(j, "garbage", 7, "garbage", &d), -1);
  if (!strstr(d.msg, "garbage") || !strstr(d.msg, "object")) fail_msg("message: %s", d.msg);
  gc_machine_output_free(&out);
  gc_jit_free(j);
}

static void invalid_module_is_an_error(void **state) {
  (void)state;
  gc_diag d = {0};
  LLVMTargetMachineRef tm = gc_host_target_machine(&host, &d);
  LLVMContextRef ctx = LLVMContextCreate();
  LLVMModuleRef m = broken_module(ctx);
  gc_machine_output out;
  assert_int_equal(gc_machine_module(m, tm, NULL, &out, &d), -1);
  assert_null(out.object);
  if (!strstr(d.msg, "broken") || !strstr(d.msg, "invalid") || !strstr(d.msg, "terminator"))
    fail_msg("message: %s", d.msg);
  assert_null(strchr(d.msg, '\n'));
  LLVMDisposeModule(m);
  LLVMContextDispose(ctx);
  LLVMDisposeTargetMachine(tm);
}

static void process_symbols_are_visible(void **state) {
  (void)state;
  /* an explicit memset call: libc's, found in the process */
  const char *ir =
      "declare ptr @memset(ptr, i32, i64)\n"
      "define void @fill_bytes(ptr %p, i32 %v, i64 %n) {\n"
      "  %r = call ptr @memset(ptr %p, i32 %v, i64 %n)\n"
      "  ret void\n"
      "}\n";
  gc_jit *j = jit_with(&host, ir, "fill_bytes");
  gc_diag d = {0};
  void (*fill)(void *, int, int64_t) = (void (*)(void *, int, int64_t))gc_jit_lookup(j, "fill_bytes", &d);
  if (!fill) fail_msg("lookup: %s", d.msg);
  unsigned char buf[300];
  memset(buf, 0, sizeof buf);
  fill(buf, 0xab, 299);
  for (int i = 0; i < 299; i++) assert_int_equal(buf[i], 0xab);
  assert_int_equal(buf[299], 0);
  gc_jit_free(j);
}

static double triple_it(double x) { return 3 * x; }

static void defined_symbols_are_visible(void **state) {
  (void)state;
  const char *ir =
      "declare double @gc_test_triple(double)\n"
      "define double @plus_triple(double %x) {\n"
      "  %t = call double @gc_test_triple(double %x)\n"
      "  %r = fadd double %t, 1.0\n"
      "  ret double %r\n"
      "}\n";
  gc_diag d = {0};
  gc_jit *j = gc_jit_new(&d);
  assert_non_null(j);
  assert_int_equal(gc_jit_define(j, "gc_test_triple", (void *)triple_it, &d), 0);
  assert_int_equal(gc_jit_define(j, "gc_test_triple", (void *)triple_it, &d), -1);
  if (!strstr(d.msg, "gc_test_triple")) fail_msg("message: %s", d.msg);
  gc_machine_output out = compile_text(&host, ir, false, false);
  assert_int_equal(gc_jit_add_object(j, out.object, out.object_len, "plus_triple", &d), 0);
  gc_machine_output_free(&out);
  double (*fn)(double) = (double (*)(double))gc_jit_lookup(j, "plus_triple", &d);
  if (!fn) fail_msg("lookup: %s", d.msg);
  assert_true(fn(2.5) == 8.5);
  gc_jit_free(j);
}

static void text_forms_are_written_to_files(void **state) {
  (void)state;
  char dir[] = "/tmp/gc_llvm_emit.XXXXXX";
  assert_non_null(mkdtemp(dir));
  char sub[128], path[256];
  snprintf(sub, sizeof sub, "%s/a/b", dir);          /* created on demand */
  char ir[SAXPY_IR_MAX];
  gc_machine_output out = compile_text(&host, saxpy_ir(ir, "saxpy", 0), true, true);
  gc_diag d = {0};
  assert_int_equal(gc_machine_write_text(sub, "saxpy", "ll", out.ir_text, &d), 0);
  assert_int_equal(gc_machine_write_text(sub, "k/../x y", "s", out.asm_text, &d), 0);
  snprintf(path, sizeof path, "%s/saxpy.ll", sub);
  size_t len;
  char *back = gc_read_file(path, &len, &d);
  assert_non_null(back);
  assert_string_equal(back, out.ir_text);
  free(back);
  snprintf(path, sizeof path, "%s/k_.._x_y.s", sub);   /* one file inside sub */
  back = gc_read_file(path, &len, &d);
  assert_non_null(back);
  assert_string_equal(back, out.asm_text);
  free(back);
  /* a directory that cannot be made: an error naming it */
  snprintf(path, sizeof path, "%s/saxpy.ll/deeper", sub);
  assert_int_equal(gc_machine_write_text(path, "x", "ll", "", &d), -1);
  assert_non_null(strstr(d.msg, "saxpy.ll"));
  gc_machine_output_free(&out);
  char cmd[200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(saxpy_runs_through_the_jit),
      cmocka_unit_test(host_code_uses_the_widest_vectors),
      cmocka_unit_test(another_cpu_gets_its_own_code),
      cmocka_unit_test(every_function_carries_the_target),
      cmocka_unit_test(undefined_symbol_is_an_error_naming_it),
      cmocka_unit_test(invalid_module_is_an_error),
      cmocka_unit_test(process_symbols_are_visible),
      cmocka_unit_test(defined_symbols_are_visible),
      cmocka_unit_test(text_forms_are_written_to_files),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
