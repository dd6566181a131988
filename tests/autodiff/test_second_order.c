/* Second order: the backward graph is ordinary IR, so it can be
 * differentiated again.  For loss = sum(f(params) * r), s = sum over params
 * of sum(dloss/dp * w_p) with random w_p (a weighted sum: the plain sum of a
 * softmax's or layer norm's input gradient is identically zero, which would
 * test nothing); autodiff of s (a gradient of a gradient) is checked against
 * finite differences of s, i.e. of the first gradient.  On the backend under
 * test (tests/backend_param.h).
 * gc-test: every backend */
#include "tests/autodiff/check.h"

#include <stdlib.h>

static void check_second(chk *c, int y, const char *what) {
  gc_diag d;
  int r = chk_input(c, "r", *gb_t(c->g, y), 0.5, 1.5);
  int loss = gb_weighted_sum(c->g, y, r);
  int *grads = calloc((size_t)c->g->n_nodes, sizeof *grads);
  int n = gc_grad(c->g, loss, NULL, 0, grads, &d);
  if (n < 1) fail_msg("%s: first gradient: %s", what, n < 0 ? d.msg : "no params");
  int s = -1;
  for (int i = 0; i < n; i++) {
    char name[16];
    snprintf(name, sizeof name, "w%d", i);
    int w = chk_input(c, name, *gb_t(c->g, grads[i]), -1, 1);
    int t = gb_weighted_sum(c->g, grads[i], w);
    s = s < 0 ? t : gb_bin(c->g, GC_OP_ADD, s, t);
  }
  free(grads);
  gc_gradcheck_opts o = {.what = what, .check_nan = true};
  chk_finish_loss(c, s, &o);
}

static void check_unary(gc_op op, double lo, double hi) {
  chk c;
  chk_begin(&c, gc_op_name(op), (uint64_t)op);
  check_second(&c, gb_un(c.g, op, chk_param(&c, "x", TY(F64, 2, 3), lo, hi, 0)), gc_op_name(op));
}

static void test_unary(void **state) {
  (void)state;
  check_unary(GC_OP_EXP, -1, 1);
  check_unary(GC_OP_LOG, 0.5, 2);
  check_unary(GC_OP_SQRT, 0.5, 2);
  check_unary(GC_OP_RSQRT, 0.5, 2);
  check_unary(GC_OP_RECIP, 0.5, 2);
  check_unary(GC_OP_TANH, -2, 2);
  check_unary(GC_OP_SIGMOID, -2, 2);
  check_unary(GC_OP_ERF, -1.5, 1.5);
  check_unary(GC_OP_SIN, -3, 3);
  check_unary(GC_OP_COS, -3, 3);
}

static void test_binary(void **state) {
  (void)state;
  const gc_op ops[] = {GC_OP_MUL, GC_OP_DIV, GC_OP_POW};
  for (int i = 0; i < 3; i++) {
    chk c;
    chk_begin(&c, gc_op_name(ops[i]), 50 + (uint64_t)i);
    int a = chk_param(&c, "a", TY(F64, 3, 2), 0.5, 2, 0);
    int b = chk_param(&c, "b", TY(F64, 2), 0.5, 2, 0);
    check_second(&c, gb_nb(c.g, ops[i], a, b), gc_op_name(ops[i]));
  }
}

/* tanh(a b^T) with batch broadcasting: the cross terms between a and b. */
static void test_dot(void **state) {
  (void)state;
  chk c;
  chk_begin(&c, "dot", 60);
  int a = chk_param(&c, "a", TY(F64, 2, 3, 4), -1, 1, 0);
  int b = chk_param(&c, "b", TY(F64, 5, 4), -1, 1, 0);
  check_second(&c, gb_un(c.g, GC_OP_TANH, gb_dot(c.g, a, b, false, true)), "tanh(dot)");
}

static void test_composites(void **state) {
  (void)state;
  chk c;
  chk_begin(&c, "softmax", 70);
  check_second(&c, gb_softmax(c.g, chk_param(&c, "x", TY(F64, 3, 5), -2, 2, 0)), "softmax");
  chk_begin(&c, "layer_norm", 71);
  int x = chk_param(&c, "x", TY(F64, 3, 5), -2, 2, 0);
  int gm = chk_param(&c, "gamma", TY(F64, 5), 0.5, 1.5, 0), bt = chk_param(&c, "beta", TY(F64, 5), -1, 1, 0);
  check_second(&c, gb_layer_norm(c.g, x, gm, bt, 1e-5), "layer_norm");
  chk_begin(&c, "gelu", 72);
  check_second(&c, gb_gelu_tanh(c.g, chk_param(&c, "x", TY(F64, 4, 3), -2, 2, 0)), "gelu(tanh)");
}

/* Third order works too: the second backward is again ordinary IR. */
static void test_third_order_value(void **state) {
  (void)state;
  gc_diag d;
  gc_graph *g = gc_graph_new("t");
  int x = gb_param(g, "x", TY0(F64));
  int y = gb_un(g, GC_OP_SIN, x);
  int g1, g2, g3;
  assert_int_equal(gc_grad(g, y, &x, 1, &g1, &d), 1);
  assert_int_equal(gc_grad(g, g1, &x, 1, &g2, &d), 1);
  assert_int_equal(gc_grad(g, g2, &x, 1, &g3, &d), 1);
  gc_tensor_map params, inputs;
  gc_tensor_map_init(&params);
  gc_tensor_map_init(&inputs);
  gc_type t = TY0(F64);
  gc_tensor *xv = gc_tensor_new(&t);
  gc_tensor_store(xv, 0, 0.7);
  gc_tensor_map_put(&params, "x", xv);
  gb_output(g, "g1", g1);
  gb_output(g, "g2", g2);
  gb_output(g, "g3", g3);
  gc_tensor_map out;
  gc_tensor_map_init(&out);
  if (gc_test_run(g, &params, &inputs, &out, &d)) fail_msg("%s", d.msg);
  /* sin and cos: libm on interp, docs/math.md's approximations elsewhere */
  double tol = gc_test_tol(GC_F64, 1e-14);
  assert_close(gc_tensor_load(gc_tensor_map_get(&out, "g1"), 0), cos(0.7), tol);
  assert_close(gc_tensor_load(gc_tensor_map_get(&out, "g2"), 0), -sin(0.7), tol);
  assert_close(gc_tensor_load(gc_tensor_map_get(&out, "g3"), 0), -cos(0.7), tol);
  gc_tensor_map_clear(&out);
  gc_tensor_map_clear(&params);
  gc_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unary),
      cmocka_unit_test(test_binary),
      cmocka_unit_test(test_dot),
      cmocka_unit_test(test_composites),
      cmocka_unit_test(test_third_order_value),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
