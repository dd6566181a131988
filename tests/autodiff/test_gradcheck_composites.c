/* Gradient checks of composites built from primitives: softmax, log-softmax,
 * layer norm, RMS norm, GELU (tanh and erf), SiLU, cross-entropy with ignored
 * labels, a causal attention head masked with -inf (no NaN anywhere, forward
 * or backward), and a whole pre-norm transformer block, whose backward size
 * relative to its forward is printed and bounded.  On the backend under test
 * (tests/backend_param.h); the NaN checks see every intermediate value on
 * interp only (gc_interp_eval), the loss and gradients elsewhere.
 * gc-test: every backend */
#include "tests/autodiff/check.h"

static void test_softmax(void **state) {
  (void)state;
  chk c;
  chk_begin(&c, "softmax", 1);
  chk_finish(&c, gb_softmax(c.g, chk_param(&c, "x", TY(F64, 2, 3, 5), -3, 3, 0)), "softmax");
  chk_begin(&c, "log_softmax", 2);
  chk_finish(&c, gb_log_softmax(c.g, chk_param(&c, "x", TY(F64, 3, 1, 6), -3, 3, 0)), "log_softmax");
}

static void test_norms(void **state) {
  (void)state;
  chk c;
  chk_begin(&c, "layer_norm", 3);
  int x = chk_param(&c, "x", TY(F64, 2, 3, 6), -2, 2, 0);
  int gm = chk_param(&c, "gamma", TY(F64, 6), 0.5, 1.5, 0), bt = chk_param(&c, "beta", TY(F64, 6), -1, 1, 0);
  chk_finish(&c, gb_layer_norm(c.g, x, gm, bt, 1e-5), "layer_norm");
  chk_begin(&c, "rms_norm", 4);
  x = chk_param(&c, "x", TY(F64, 3, 6), -2, 2, 0);
  int w = chk_param(&c, "w", TY(F64, 6), 0.5, 1.5, 0);
  chk_finish(&c, gb_rms_norm(c.g, x, w, 1e-6), "rms_norm");
}

static void test_activations(void **state) {
  (void)state;
  chk c;
  chk_begin(&c, "gelu_tanh", 5);
  chk_finish(&c, gb_gelu_tanh(c.g, chk_param(&c, "x", TY(F64, 4, 5), -3, 3, 0)), "gelu(tanh)");
  chk_begin(&c, "gelu_erf", 6);
  chk_finish(&c, gb_gelu_erf(c.g, chk_param(&c, "x", TY(F64, 4, 5), -3, 3, 0)), "gelu(erf)");
  chk_begin(&c, "silu", 7);
  chk_finish(&c, gb_silu(c.g, chk_param(&c, "x", TY(F64, 2, 1, 5), -3, 3, 0)), "silu");
}

static void test_cross_entropy(void **state) {
  (void)state;
  chk c;
  chk_begin(&c, "cross_entropy", 8);
  int logits = chk_param(&c, "logits", TY(F64, 5, 7), -3, 3, 0);
  int labels = chk_index(&c, "labels", TY(I64, 5), (int64_t[]){3, -100, 0, 6, -100});
  gc_gradcheck_opts o = {.what = "cross_entropy", .check_nan = true};
  chk_finish_loss(&c, gb_cross_entropy(c.g, logits, labels), &o);
}

/* Rows of ignored labels get exactly zero gradient. */
static void test_cross_entropy_ignored_rows(void **state) {
  (void)state;
  gc_diag d;
  chk c;
  chk_begin(&c, "cross_entropy", 9);
  int logits = chk_param(&c, "logits", TY(F64, 3, 4), -3, 3, 0);
  int labels = chk_index(&c, "labels", TY(I64, 3), (int64_t[]){-100, 2, -100});
  int grad;
  int loss = gb_cross_entropy(c.g, logits, labels);
  assert_int_equal(gc_grad(c.g, loss, &logits, 1, &grad, &d), 1);
  gb_output(c.g, "grad", grad);
  gc_tensor_map out;
  gc_tensor_map_init(&out);
  if (gc_test_run(c.g, &c.params, &c.inputs, &out, &d)) fail_msg("%s", d.msg);
  const gc_tensor *gl = gc_tensor_map_get(&out, "grad"), *x = gc_tensor_map_get(&c.params, "logits");
  double z = 0;
  for (int j = 0; j < 4; j++) z += exp(gc_tensor_load(x, 4 + j));
  for (int j = 0; j < 4; j++) {
    assert_true(gc_tensor_load(gl, j) == 0 && gc_tensor_load(gl, 8 + j) == 0);
    /* the one counted row: softmax - onehot */
    assert_close(gc_tensor_load(gl, 4 + j), exp(gc_tensor_load(x, 4 + j)) / z - (j == 2), 1e-12);
  }
  gc_tensor_map_clear(&out);
  chk_free(&c);
}

static void test_causal_attention(void **state) {
  (void)state;
  chk c;
  chk_begin(&c, "attention", 10);
  int x = chk_param(&c, "x", TY(F64, 5, 6), -1, 1, 0);
  int w[4];
  const char *names[4] = {"wq", "wk", "wv", "wo"};
  for (int i = 0; i < 4; i++) w[i] = chk_param(&c, names[i], TY(F64, 6, 6), -0.6, 0.6, 0);
  int y = gb_attention(c.g, x, w[0], w[1], w[2], w[3], 2);
  int r = chk_input(&c, "r", TY(F64, 5, 6), 0.5, 1.5);
  gc_gradcheck_opts o = {.what = "causal attention", .check_nan = true, .max_samples = 20};
  chk_finish_loss(&c, gb_weighted_sum(c.g, y, r), &o);
}

/* Norm weights near 1, matrices ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), biases small. */
static void set_block_values(chk *c) {
  gc_tensor_map *p = &c->params;
  for (int i = 0; i < p->n; i++) {
    gc_tensor *v = p->tensors[i];
    bool is_norm_weight = strstr(p->names[i], "ln") && strstr(p->names[i], "weight");
    double s = v->type.rank == 2 ? 1.0 / sqrt((double)v->type.dims[0]) : 0.2;
    for (int64_t k = 0; k < gc_tensor_numel(v); k++)
      gc_tensor_store(v, k, is_norm_weight ? gc_test_rng_range(&c->rng, 0.8, 1.2) : gc_test_rng_range(&c->rng, -s, s));
  }
}

/* A pre-norm block over x [T, D]; params filled with scaled random values. */
static int build_block(chk *c, int64_t t, int64_t d, int64_t f, int heads) {
  gb_block b = gb_block_params(c->g, d, f);
  for (int i = 0; i < c->g->n_nodes; i++) {
    const gc_node *n = c->g->nodes[i];
    if (n->op == GC_OP_PARAM) gc_tensor_map_put(&c->params, n->attrs.name.name, gc_tensor_new(&n->type));
  }
  set_block_values(c);
  int x = chk_input(c, "x", TY(F64, t, d), -1, 1);
  return gb_block_apply(c->g, &b, x, heads);
}

static void test_transformer_block(void **state) {
  (void)state;
  chk c;
  chk_begin(&c, "block", 11);
  int y = build_block(&c, 4, 8, 16, 2);
  int r = chk_input(&c, "r", TY(F64, 4, 8), 0.5, 1.5);
  gc_gradcheck_opts o = {.what = "pre-norm transformer block", .check_nan = true, .max_samples = 24};
  chk_finish_loss(&c, gb_weighted_sum(c.g, y, r), &o);
}

/* The backward part stays within a small constant factor of the forward. */
static void test_block_backward_size(void **state) {
  (void)state;
  gc_diag d;
  chk c;
  chk_begin(&c, "block", 12);
  int y = build_block(&c, 4, 8, 16, 2);
  int loss = gb_sum_all(c.g, y);
  int fwd = c.g->n_nodes;
  int *grads = calloc((size_t)fwd, sizeof *grads);
  assert_int_equal(gc_grad(c.g, loss, NULL, 0, grads, &d), 12);
  int bwd = c.g->n_nodes - fwd;
  double factor = (double)bwd / fwd;
  printf("transformer block: forward %d nodes, backward %d nodes, factor %.2f\n", fwd, bwd, factor);
  assert_true(factor <= 2.5);
  free(grads);
  chk_free(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_softmax),
      cmocka_unit_test(test_norms),
      cmocka_unit_test(test_activations),
      cmocka_unit_test(test_cross_entropy),
      cmocka_unit_test(test_cross_entropy_ignored_rows),
      cmocka_unit_test(test_causal_attention),
      cmocka_unit_test(test_transformer_block),
      cmocka_unit_test(test_block_backward_size),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
