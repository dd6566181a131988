/* The backward part is ordinary IR: the IR.md example, differentiated with
 * gc_grad_outputs, prints with its grad.<param> labels and outputs, parses
 * back to the same graph, and runs to the closed-form gradients of
 * sum(tanh(x w + b)), on the backend under test (tests/backend_param.h).
 * gc-test: every backend */
#include "tests/testutil.h"
#include "tests/backend_param.h"
#include "autodiff/autodiff.h"
#include "backends/interp/interp.h"

#include <stdlib.h>
#include <string.h>

static const char *mlp =
    "graph @mlp {\n"
    "  %x  = input \"x\" : f64[4,8]\n"
    "  %w  = param \"w\" : f64[8,16]\n"
    "  %b  = param \"b\" : f64[16]\n"
    "  %h  = dot %x, %w : f64[4,16]\n"
    "  %bb = broadcast %b : f64[4,16]\n"
    "  %y  = add %h, %bb : f64[4,16]\n"
    "  %a  = tanh %y : f64[4,16]\n"
    "  %s  = reduce_sum %a {axes=[0,1]} : f64[]\n"
    "  output \"loss\" = %s\n"
    "}\n";

static gc_tensor *filled(gc_type t, double scale, double shift) {
  gc_tensor *x = gc_tensor_new(&t);
  for (int64_t i = 0; i < gc_tensor_numel(x); i++) gc_tensor_store(x, i, scale * sin(1.7 * (double)i + shift));
  return x;
}

static void test_print_parse_run(void **state) {
  (void)state;
  gc_diag d;
  gc_graph *g = gc_parse(mlp, strlen(mlp), &d);
  if (!g) fail_msg("%s", d.msg);
  assert_int_equal(gc_grad_outputs(g, "loss", &d), 0);
  char *text = gc_print(g);
  assert_non_null(strstr(text, "label=\"grad.w\""));
  assert_non_null(strstr(text, "label=\"grad.b\""));
  assert_non_null(strstr(text, "output \"grad.w\" = "));
  assert_non_null(strstr(text, "output \"grad.b\" = "));
  gc_graph *back = gc_parse(text, strlen(text), &d);
  if (!back) fail_msg("%s\n%s", d.msg, text);
  assert_true(gc_hash_graph(back) == gc_hash_graph(g));

  gc_tensor_map params, inputs, out;
  gc_tensor_map_init(&params);
  gc_tensor_map_init(&inputs);
  gc_tensor_map_init(&out);
  gc_type tx = gc_type_make(GC_F64, 2, (int64_t[]){4, 8}), tw = gc_type_make(GC_F64, 2, (int64_t[]){8, 16}),
          tb = gc_type_make(GC_F64, 1, (int64_t[]){16});
  gc_tensor_map_put(&inputs, "x", filled(tx, 1.0, 0.0));
  gc_tensor_map_put(&params, "w", filled(tw, 0.3, 1.0));
  gc_tensor_map_put(&params, "b", filled(tb, 0.5, 2.0));
  if (gc_test_run(back, &params, &inputs, &out, &d)) fail_msg("%s", d.msg);
  const gc_tensor *x = gc_tensor_map_get(&inputs, "x"), *w = gc_tensor_map_get(&params, "w"),
                  *b = gc_tensor_map_get(&params, "b");
  const gc_tensor *gw = gc_tensor_map_get(&out, "grad.w"), *gb = gc_tensor_map_get(&out, "grad.b");
  assert_non_null(gw);
  assert_non_null(gb);
  /* dL/dy = 1 - tanh(y)^2;  dL/db = column sums;  dL/dw = x^T dL/dy */
  double dy[4][16], want_b[16] = {0};
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 16; j++) {
      double y = gc_tensor_load(b, j);
      for (int k = 0; k < 8; k++) y += gc_tensor_load(x, i * 8 + k) * gc_tensor_load(w, k * 16 + j);
      dy[i][j] = 1 - tanh(y) * tanh(y);
      want_b[j] += dy[i][j];
    }
  for (int j = 0; j < 16; j++) assert_close(gc_tensor_load(gb, j), want_b[j], 1e-12);
  for (int k = 0; k < 8; k++)
    for (int j = 0; j < 16; j++) {
      double want = 0;
      for (int i = 0; i < 4; i++) want += gc_tensor_load(x, i * 8 + k) * dy[i][j];
      assert_close(gc_tensor_load(gw, k * 16 + j), want, 1e-12);
    }
  gc_tensor_map_clear(&params);
  gc_tensor_map_clear(&inputs);
  gc_tensor_map_clear(&out);
  free(text);
  gc_graph_free(back);
  gc_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_print_parse_run),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
