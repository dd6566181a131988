/* autodiff: the rule table's coverage, the API's contract (labels, zero
 * gradients, errors) and hand-worked gradients for fan-out, ties, kinks,
 * masking with -inf, gather and strided slices.  The gradients' values come
 * from the backend under test (tests/backend_param.h); that no node of the
 * whole graph is NaN is checked on interp only (gc_interp_eval keeps every
 * value), elsewhere on the gradient.
 * gc-test: every backend */
#include "tests/autodiff/graphs.h"
#include "tests/backend_param.h"
#include "autodiff/autodiff.h"
#include "backends/interp/interp.h"

#include <stdlib.h>
#include <string.h>

static void test_covers_all_ops(void **state) {
  (void)state;
  assert_true(gc_autodiff_covers_all_ops());
}

static gc_tensor *vec(gc_type t, const double *v) {
  gc_tensor *x = gc_tensor_new(&t);
  for (int64_t i = 0; i < gc_tensor_numel(x); i++) gc_tensor_store(x, i, v[i]);
  return x;
}

/* Append d(loss)/d(wrt) and return its value on params "p" (and input "x"
 * when given); the caller frees it. */
static gc_tensor *grad_value(gc_graph *g, int loss, int wrt, gc_tensor_map *params, gc_tensor_map *inputs) {
  gc_diag d;
  int gi;
  assert_int_equal(gc_grad(g, loss, &wrt, 1, &gi, &d), 1);
  assert_int_equal(gc_verify(g, &d), 0);
  if (gc_test_on_interp()) {
    gc_tensor **values = calloc((size_t)g->n_nodes, sizeof *values);
    if (gc_interp_eval(g, params, inputs, values, &d)) fail_msg("eval: %s", d.msg);
    for (int i = 0; i < g->n_nodes; i++)
      if (values[i] && gc_dtype_is_float(values[i]->type.dtype))
        for (int64_t k = 0; k < gc_tensor_numel(values[i]); k++)
          if (isnan(gc_tensor_load(values[i], k))) fail_msg("node %%%d (%s) is NaN", i, gc_op_name(g->nodes[i]->op));
    gc_interp_values_free(g, values);
    free(values);
  }
  gb_output(g, "grad", gi);
  gc_tensor_map out;
  gc_tensor_map_init(&out);
  if (gc_test_run(g, params, inputs, &out, &d)) fail_msg("run on %s: %s", gc_test_backend(), d.msg);
  gc_tensor *r = gc_tensor_map_take(&out, "grad");
  gc_tensor_map_clear(&out);
  for (int64_t k = 0; k < gc_tensor_numel(r); k++)
    if (isnan(gc_tensor_load(r, k))) fail_msg("the gradient is NaN at %lld (on %s)", (long long)k, gc_test_backend());
  return r;
}

static void expect(const gc_tensor *t, const double *want, int n) {
  assert_int_equal(gc_tensor_numel(t), n);
  for (int i = 0; i < n; i++) assert_close(gc_tensor_load(t, i), want[i], 1e-12);
}

/* Run: one param "p" of the given values, a loss built by `build`. */
typedef int build_fn(gc_graph *g, int p);

static void check_grad(gc_type pt, const double *pv, build_fn *build, const double *want) {
  gc_graph *g = gc_graph_new("t");
  int p = gb_param(g, "p", pt);
  int loss = build(g, p);
  gc_tensor_map params, inputs;
  gc_tensor_map_init(&params);
  gc_tensor_map_init(&inputs);
  gc_tensor_map_put(&params, "p", vec(pt, pv));
  gc_tensor *gr = grad_value(g, loss, p, &params, &inputs);
  expect(gr, want, (int)gc_type_numel_unchecked(&pt));
  gc_tensor_free(gr);
  gc_tensor_map_clear(&params);
  gc_tensor_map_clear(&inputs);
  gc_graph_free(g);
}

/* sum(p * p): fan-out of p into both operands gives 2p. */
static int build_square(gc_graph *g, int p) { return gb_sum_all(g, gb_bin(g, GC_OP_MUL, p, p)); }
/* sum(reduce_max(p, axis 1) * [1, 10]) */
static int build_rmax(gc_graph *g, int p) {
  int m = gb_reduce(g, GC_OP_REDUCE_MAX, p, IL(1), false);
  int w = gb_iota(g, TY(F64, 2), 0);
  return gb_sum_all(g, gb_bin(g, GC_OP_MUL, m, gb_ks(g, GC_OP_ADD, gb_ks(g, GC_OP_MUL, w, 9), 1)));
}
/* sum(max(p, reverse-ish constant 2)) + sum(min(p, 2)) */
static int build_maxmin(gc_graph *g, int p) {
  int two = gb_const_like(g, 2, p);
  int a = gb_sum_all(g, gb_bin(g, GC_OP_MAX, p, two));
  int b = gb_sum_all(g, gb_ks(g, GC_OP_MUL, gb_bin(g, GC_OP_MIN, two, p), 10));
  return gb_bin(g, GC_OP_ADD, a, b);
}
static int build_abs(gc_graph *g, int p) { return gb_sum_all(g, gb_un(g, GC_OP_ABS, p)); }
/* sum(exp(where(p > 0, p, -inf))): masked elements contribute exp(-inf) = 0. */
static int build_masked(gc_graph *g, int p) {
  int keep = gb_bin(g, GC_OP_LT, gb_const_like(g, 0, p), p);
  return gb_sum_all(g, gb_un(g, GC_OP_EXP, gb_where(g, keep, p, gb_const_like(g, -INFINITY, p))));
}
/* sum(gather(p [4], [0, 2, 0]) * [1, 2, 3]) */
static int build_gather(gc_graph *g, int p) {
  int idx = gb_bin(g, GC_OP_MUL, gb_iota(g, TY(I64, 3), 0), gb_const(g, 2, TY(I64, 3)));
  idx = gb_where(g, gb_bin(g, GC_OP_EQ, idx, gb_const(g, 4, TY(I64, 3))), gb_const(g, 0, TY(I64, 3)), idx);
  int w = gb_ks(g, GC_OP_ADD, gb_iota(g, TY(F64, 3), 0), 1);
  return gb_sum_all(g, gb_bin(g, GC_OP_MUL, gb_gather(g, p, idx, 0), w));
}
/* sum(p[1:7:3] * [1, 2]) on p [7] */
static int build_strided(gc_graph *g, int p) {
  int s = gb_slice(g, p, IL(1), IL(7), IL(3));
  return gb_sum_all(g, gb_bin(g, GC_OP_MUL, s, gb_ks(g, GC_OP_ADD, gb_iota(g, TY(F64, 2), 0), 1)));
}
/* sum(cast(cast(p, i64), f64)): integer values carry no gradient. */
static int build_int_path(gc_graph *g, int p) { return gb_sum_all(g, gb_cast(g, gb_cast(g, p, GC_I64), GC_F64)); }
/* sum(cast(cast(p, f32), f64) * p): float casts pass the gradient through
 * a cast back, so d/dp = round_f32(p) + p, here exact. */
static int build_f32_path(gc_graph *g, int p) {
  return gb_sum_all(g, gb_bin(g, GC_OP_MUL, gb_cast(g, gb_cast(g, p, GC_F32), GC_F64), p));
}
/* sum(pow(p, 2)): base <= 0 must not make the exponent's gradient NaN. */
static int build_pow_base(gc_graph *g, int p) {
  return gb_sum_all(g, gb_bin(g, GC_OP_POW, gb_const_like(g, 0, p), p));
}

static void test_hand_worked(void **state) {
  (void)state;
  check_grad(TY(F64, 3), (double[]){1, -2, 0.5}, build_square, (double[]){2, -4, 1});
  /* rows [1 3 3 2] and [5 4 5 5]: ties split equally among the maxima */
  check_grad(TY(F64, 2, 4), (double[]){1, 3, 3, 2, 5, 4, 5, 5}, build_rmax,
             (double[]){0, 0.5, 0.5, 0, 10.0 / 3, 0, 10.0 / 3, 10.0 / 3});
  /* max(p,2) and 10*min(2,p): a tie at p = 2 gives half to each side */
  check_grad(TY(F64, 3), (double[]){1, 2, 3}, build_maxmin, (double[]){10, 0.5 + 5, 1});
  check_grad(TY(F64, 3), (double[]){-1.5, 0, 2}, build_abs, (double[]){-1, 0, 1});
  check_grad(TY(F64, 3), (double[]){-1, 0.5, 2}, build_masked, (double[]){0, exp(0.5), exp(2)});
  check_grad(TY(F64, 4), (double[]){9, 9, 9, 9}, build_gather, (double[]){1 + 3, 0, 2, 0});
  check_grad(TY(F64, 7), (double[]){1, 2, 3, 4, 5, 6, 7}, build_strided, (double[]){0, 1, 0, 0, 2, 0, 0});
  check_grad(TY(F64, 2), (double[]){1.5, 2.5}, build_int_path, (double[]){0, 0});
  check_grad(TY(F64, 2), (double[]){2, 3}, build_pow_base, (double[]){0, 0});
  check_grad(TY(F64, 2), (double[]){0.5, -1.25}, build_f32_path, (double[]){1, -2.5});
}

static void test_labels_and_zero_grads(void **state) {
  (void)state;
  gc_diag d;
  gc_graph *g = gc_graph_new("t");
  int x = gb_input(g, "x", TY(F64, 3));
  int w = gb_param(g, "w", TY(F64, 3));
  int u = gb_param(g, "unused", TY(F64, 2, 2));
  int steps = gb_param(g, "steps", TY0(I64));
  (void)u, (void)steps;
  int loss = gb_sum_all(g, gb_bin(g, GC_OP_MUL, w, x));
  gb_output(g, "loss", loss);
  int before = g->n_nodes;
  assert_int_equal(gc_grad_outputs(g, "loss", &d), 0);
  assert_int_equal(gc_verify(g, &d), 0);
  int gw = gc_graph_find_output(g, "grad.w"), gu = gc_graph_find_output(g, "grad.unused");
  assert_true(gw >= before && gu >= before);
  assert_int_equal(gc_graph_find_output(g, "grad.steps"), -1); /* integer param: no gradient */
  assert_string_equal(g->nodes[gw]->label, "grad.w");
  assert_string_equal(g->nodes[gu]->label, "grad.unused");
  assert_int_equal(g->nodes[gu]->op, GC_OP_CONST);
  assert_true(g->nodes[gu]->attrs.value.value == 0);
  assert_true(gc_type_equal(&g->nodes[gu]->type, &g->nodes[u]->type));
  /* d/dw sum(w*x) = x: broadcast-free, a mul of the seed's broadcast by x */
  gc_tensor_map params, inputs, out;
  gc_tensor_map_init(&params);
  gc_tensor_map_init(&inputs);
  gc_tensor_map_init(&out);
  gc_tensor_map_put(&params, "w", vec(TY(F64, 3), (double[]){1, 2, 3}));
  gc_tensor_map_put(&params, "unused", vec(TY(F64, 2, 2), (double[]){1, 1, 1, 1}));
  gc_tensor_map_put(&params, "steps", vec(TY0(I64), (double[]){0}));
  gc_tensor_map_put(&inputs, "x", vec(TY(F64, 3), (double[]){4, 5, 6}));
  if (gc_test_run(g, &params, &inputs, &out, &d)) fail_msg("%s", d.msg);
  expect(gc_tensor_map_get(&out, "grad.w"), (double[]){4, 5, 6}, 3);
  expect(gc_tensor_map_get(&out, "grad.unused"), (double[]){0, 0, 0, 0}, 4);
  gc_tensor_map_clear(&params);
  gc_tensor_map_clear(&inputs);
  gc_tensor_map_clear(&out);
  gc_graph_free(g);
}

/* A param's name wins over an intermediate's label on a shared adjoint. */
static void test_shared_adjoint_label(void **state) {
  (void)state;
  gc_diag d;
  gc_graph *g = gc_graph_new("t");
  int a = gb_param(g, "a", TY(F64, 3)), b = gb_param(g, "b", TY(F64, 3));
  int h = gb_bin(g, GC_OP_ADD, a, b);
  gc_graph_set_label(g, h, "h");
  int e = gb_un(g, GC_OP_EXP, h);
  gc_graph_set_label(g, e, "e");
  int grads[2];
  assert_int_equal(gc_grad(g, gb_sum_all(g, e), NULL, 0, grads, &d), 2);
  assert_int_equal(grads[0], grads[1]);
  assert_string_equal(g->nodes[grads[0]]->label, "grad.a");
  gc_graph_free(g);
}

static void test_errors(void **state) {
  (void)state;
  gc_diag d;
  gc_graph *g = gc_graph_new("t");
  int w = gb_param(g, "w", TY(F64, 3));
  int i = gb_param(g, "i", TY(I64, 3));
  int s = gb_sum_all(g, w);
  int grads[4];
  assert_int_equal(gc_grad(g, w, NULL, 0, grads, &d), -1);
  assert_non_null(strstr(d.msg, "scalar"));
  assert_int_equal(gc_grad(g, s, &i, 1, grads, &d), -1);
  assert_non_null(strstr(d.msg, "i64[3]"));
  assert_int_equal(gc_grad(g, 999, NULL, 0, grads, &d), -1);
  assert_int_equal(gc_grad_outputs(g, "nope", &d), -1);
  assert_non_null(strstr(d.msg, "nope"));
  gc_graph_free(g);
}

/* Only nodes between the wrt set and the output get adjoints: a branch that
 * does not depend on w adds nothing to the backward graph. */
static void test_only_active_nodes(void **state) {
  (void)state;
  gc_diag d;
  gc_graph *g1 = gc_graph_new("a"), *g2 = gc_graph_new("b");
  int grads[2];
  int w1 = gb_param(g1, "w", TY(F64, 4));
  gb_output(g1, "loss", gb_sum_all(g1, gb_un(g1, GC_OP_TANH, w1)));
  int w2 = gb_param(g2, "w", TY(F64, 4));
  int x2 = gb_input(g2, "x", TY(F64, 4));
  int side = gb_un(g2, GC_OP_EXP, gb_un(g2, GC_OP_SIN, x2));
  int l2 = gb_bin(g2, GC_OP_ADD, gb_sum_all(g2, gb_un(g2, GC_OP_TANH, w2)), gb_sum_all(g2, side));
  int n1 = g1->n_nodes, n2 = g2->n_nodes;
  assert_int_equal(gc_grad(g1, g1->outputs[0].node, NULL, 0, grads, &d), 1);
  assert_int_equal(gc_grad(g2, l2, NULL, 0, grads, &d), 1);
  assert_int_equal(g1->n_nodes - n1, g2->n_nodes - n2);
  gc_graph_free(g1);
  gc_graph_free(g2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_covers_all_ops),
      cmocka_unit_test(test_hand_worked),
      cmocka_unit_test(test_labels_and_zero_grads),
      cmocka_unit_test(test_shared_adjoint_label),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_only_active_nodes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
