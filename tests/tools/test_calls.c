/* Custom calls through the tools: gc-run --plugin runs a plugin's call and
 * libm's erff on both backends to the same bits, and differentiates
 * through the VJP the plugin registers; an unknown name, a wrong signature,
 * a missing VJP and a plugin that does not load are each one line. */
#include "tests/tools/tool_fixture.h"
#include "io/safetensors.h"

#include <math.h>

#define PLUGIN "'" GC_BIN_DIR "/../test-plugins/gc_test_plugin.so'"

static const char graph[] =
    "graph @plugged {\n"
    "  %w = param \"w\" : f64[6]\n"
    "  %x = input \"x\" : f32[6]\n"
    "  %s = call @plugin_softplus(%w) {elementwise} : f64[6]\n"
    "  %e = call @erff(%x) {elementwise} : f32[6]\n"
    "  %l = reduce_sum %s {axes=[0]} : f64[]\n"
    "  output \"s\" = %s\n"
    "  output \"e\" = %e\n"
    "  output \"loss\" = %l\n"
    "}\n";

static void write_tensors(const gc_fixture *f) {
  gc_tensor_map p, in;
  gc_tensor_map_init(&p), gc_tensor_map_init(&in);
  gc_type tw = gc_type_make(GC_F64, 1, (int64_t[]){6}), tx = gc_type_make(GC_F32, 1, (int64_t[]){6});
  gc_tensor *w = gc_tensor_new(&tw), *x = gc_tensor_new(&tx);
  for (int i = 0; i < 6; i++) {
    ((double *)w->data)[i] = -2.5 + i;
    ((float *)x->data)[i] = -1.25f + 0.5f * (float)i;
  }
  gc_tensor_map_put(&p, "w", w);
  gc_tensor_map_put(&in, "x", x);
  char path[128];
  gc_diag d;
  fixture_path(f, "p.safetensors", path, sizeof path);
  if (gc_safetensors_write(path, &p, &d) < 0) fail_msg("%s", d.msg);
  fixture_path(f, "i.safetensors", path, sizeof path);
  if (gc_safetensors_write(path, &in, &d) < 0) fail_msg("%s", d.msg);
  gc_tensor_map_clear(&p), gc_tensor_map_clear(&in);
}

static void read_out(const gc_fixture *f, const char *name, gc_tensor_map *m) {
  char path[128];
  gc_diag d;
  fixture_path(f, name, path, sizeof path);
  gc_tensor_map_init(m);
  if (gc_safetensors_read(path, m, &d) < 0) fail_msg("%s", d.msg);
}

static void test_plugin_on_both_backends(void **state) {
  gc_fixture *f = *state;
  fixture_write_text(f, "g.gcir", graph);
  write_tensors(f);
  const char *common = "g.gcir --params p.safetensors --inputs i.safetensors --grad loss --plugin " PLUGIN;
  char args[1024];
  snprintf(args, sizeof args, "%s --backend interp -o interp.safetensors", common);
  if (fixture_run(f, "gc-run", args) != 0) fail_msg("gc-run (interp): %s", f->err);
  snprintf(args, sizeof args, "%s --backend llvm -o llvm.safetensors", common);
  if (fixture_run(f, "gc-run", args) != 0) fail_msg("gc-run (llvm): %s", f->err);
  gc_tensor_map a, b;
  read_out(f, "interp.safetensors", &a);
  read_out(f, "llvm.safetensors", &b);
  const char *names[] = {"s", "e"};
  for (int k = 0; k < 2; k++) {
    const gc_tensor *x = gc_tensor_map_get(&a, names[k]), *y = gc_tensor_map_get(&b, names[k]);
    assert_non_null(x), assert_non_null(y);
    assert_int_equal(memcmp(x->data, y->data, gc_tensor_bytes(x)), 0);
  }
  const gc_tensor *s = gc_tensor_map_get(&a, "s"), *e = gc_tensor_map_get(&a, "e"), *gw = gc_tensor_map_get(&a, "grad.w");
  assert_non_null(gw);
  for (int i = 0; i < 6; i++) {
    double w = -2.5 + i;
    assert_true(((const double *)s->data)[i] == log1p(exp(w)));
    assert_true(((const float *)e->data)[i] == erff(-1.25f + 0.5f * (float)i));
    assert_true(fabs(((const double *)gw->data)[i] - 1 / (1 + exp(-w))) < 1e-15);   /* the plugin's VJP */
  }
  gc_tensor_map_clear(&a), gc_tensor_map_clear(&b);
}

/* gc-opt --grad differentiates through the plugin's VJP (sigmoid, then
 * mul) and prints a graph that reads back; gc-train takes the flag too. */
static void test_plugin_on_gc_opt(void **state) {
  gc_fixture *f = *state;
  fixture_write_text(f, "g.gcir", graph);
  if (fixture_run(f, "gc-opt", "g.gcir --grad loss --passes= --plugin " PLUGIN " -o out.gcir") != 0)
    fail_msg("gc-opt: %s", f->err);
  size_t len;
  char *text = fixture_slurp(f, "out.gcir", &len);
  assert_non_null(strstr(text, "call @plugin_softplus(%0) {elementwise=true} : f64[6]"));
  assert_non_null(strstr(text, "= sigmoid %0 : f64[6]"));
  assert_non_null(strstr(text, "output \"grad.w\""));
  gc_diag d = {0};
  gc_graph *g = gc_parse(text, len, &d);
  if (!g) fail_msg("%s", d.msg);
  gc_graph_free(g);
  free(text);
  assert_int_equal(fixture_run(f, "gc-train", "--help"), 0);
  assert_non_null(strstr(f->out, "--plugin LIB.so"));
  assert_int_equal(fixture_run(f, "gc-opt", "--help"), 0);
  assert_non_null(strstr(f->out, "--plugin LIB.so"));
}

/* One line on stderr holding `want`, exit status `status`. */
static void expect_error(gc_fixture *f, const char *text, const char *args, int status, const char *want) {
  fixture_write_text(f, "bad.gcir", text);
  int rc = fixture_run(f, "gc-run", args);
  if (rc != status || !strstr(f->err, want)) fail_msg("exit %d, stderr: %s (expected %d and \"%s\")", rc, f->err, status, want);
  assert_ptr_equal(strchr(f->err, '\n'), f->err + strlen(f->err) - 1);
}

static void test_errors(void **state) {
  gc_fixture *f = *state;
  expect_error(f, "graph @g {\n  %x = input \"x\" : f32[4]\n  %y = call @no_such_fn(%x) : f32[4]\n  output \"y\" = %y\n}\n",
               "bad.gcir --random-inputs 1 --backend interp -o o.safetensors", 1,
               "gc-run: bad.gcir:3:3: call @no_such_fn: no function of that name");
  expect_error(f,
               "graph @g {\n  %x = input \"x\" : f32[4]\n"
               "  %y = call @powf(%x) {elementwise, signature=\"f32(f32,f32)\"} : f32[4]\n  output \"y\" = %y\n}\n",
               "bad.gcir --random-inputs 1 --backend llvm -o o.safetensors", 1,
               "gc-run: bad.gcir:3:3: call @powf: signature f32(f32,f32) takes 2 arguments");
  expect_error(f,
               "graph @g {\n  %w = param \"w\" : f32[4]\n  %y = call @erff(%w) {elementwise} : f32[4]\n"
               "  %l = reduce_sum %y {axes=[0]} : f32[]\n  output \"l\" = %l\n}\n",
               "bad.gcir --init 1 --grad l --backend interp -o o.safetensors", 1, "call @erff %1 has no VJP");
  expect_error(f, "graph @g {\n}\n", "bad.gcir --plugin ./no-such-plugin.so -o o.safetensors", 2,
               "gc-run: cannot load plugin ./no-such-plugin.so");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_plugin_on_both_backends, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_plugin_on_gc_opt, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_errors, fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
