/* The step graph's all_reduce of the gradients in buckets
 * (gc_optim_config.bucket_bytes): consecutive gradients share one
 * all_reduce of their concatenation, up to the bucket's size, and each
 * param's update is bitwise the one of an all_reduce per gradient (on one
 * process the all_reduce is the identity: a slice put back in the wrong
 * place would show). */
#include "tests/frontend/nn_testutil.h"
#include "frontend/optim.h"

/* loss = mean((x W + b - y)^2) + mean(c^2): W f64[2,3] (48 bytes), b f64[3]
 * (24), c f64[5] (40). */
static gc_graph *grads_graph(void) {
  gc_builder *b = gc_builder_new("buckets", GC_F64);
  gc_val x = gc_input(b, "x", GC_F64, GC_SHAPE(4, 2));
  gc_val y = gc_input(b, "y", GC_F64, GC_SHAPE(4, 3));
  gc_val w = gc_param(b, "w", GC_SHAPE(2, 3), gc_init_zeros());
  gc_val bias = gc_param(b, "b", GC_SHAPE(3), gc_init_zeros());
  gc_val c = gc_param(b, "c", GC_SHAPE(5), gc_init_zeros());
  gc_val e = gc_sub(b, gc_add(b, gc_matmul(b, x, w), bias), y);
  gc_output(b, "loss", gc_add(b, gc_mean_all(b, gc_square(b, e)), gc_mean_all(b, gc_square(b, c))));
  gc_graph *g = finish_ok(b);
  gc_diag d = {0};
  if (gc_optim_append_grads(g, "loss", "scale", &d)) fail_msg("append_grads: %s", d.msg);
  return g;
}

/* The step graph with buckets of `bytes`: its all_reduces' element counts
 * into counts (their number returned), the params after one step into
 * out (w, b, c in a row: 14 values). */
static int step(const gc_graph *grads, int64_t bytes, int64_t *counts, double *out) {
  gc_optim_config c;
  gc_optim_defaults(&c);
  c.bucket_bytes = bytes;
  gc_diag d = {0};
  gc_graph *g = gc_optim_step_graph(grads, &c, &d);
  if (!g) fail_msg("step_graph: %s", d.msg);
  int n = 0;
  for (int i = 0; i < g->n_nodes; i++)
    if (g->nodes[i]->op == GC_OP_ALL_REDUCE) counts[n++] = gc_type_numel_unchecked(&g->nodes[i]->type);
  gc_tensor_map params, inputs, outs;
  gc_tensor_map_init(&params), gc_tensor_map_init(&inputs), gc_tensor_map_init(&outs);
  double v[14];
  fill_vals(v, 14, 7);
  put(&params, "w", GC_F64, GC_SHAPE(2, 3), v);
  put(&params, "b", GC_F64, GC_SHAPE(3), v + 6);
  put(&params, "c", GC_F64, GC_SHAPE(5), v + 9);
  fill_vals(v, 14, 11);
  put(&inputs, "grad.w", GC_F64, GC_SHAPE(2, 3), v);
  put(&inputs, "grad.b", GC_F64, GC_SHAPE(3), v + 6);
  put(&inputs, "grad.c", GC_F64, GC_SHAPE(5), v + 9);
  if (gc_init_params(g, NULL, 1, &params, &d)) fail_msg("init: %s", d.msg);
  if (gc_interp_run(g, &params, &inputs, &outs, &d)) fail_msg("run: %s", d.msg);
  const char *names[3] = {"w", "b", "c"};
  int k = 0;
  for (int p = 0; p < 3; p++) {
    const gc_tensor *t = gc_tensor_map_get(&params, names[p]);
    for (int64_t i = 0; i < gc_tensor_numel(t); i++) out[k++] = at(t, i);
  }
  gc_tensor_map_clear(&params), gc_tensor_map_clear(&inputs), gc_tensor_map_clear(&outs);
  gc_graph_free(g);
  return n;
}

static void test_buckets(void **state) {
  (void)state;
  gc_graph *grads = grads_graph();
  int64_t counts[8];
  double one_each[14], two[14], all[14];
  assert_int_equal(step(grads, 0, counts, one_each), 3);   /* 0: one per gradient */
  assert_int_equal(counts[0], 6), assert_int_equal(counts[1], 3), assert_int_equal(counts[2], 5);
  assert_int_equal(step(grads, 72, counts, two), 2);   /* w and b fill 72 bytes; c alone */
  assert_int_equal(counts[0], 9), assert_int_equal(counts[1], 5);
  assert_int_equal(step(grads, 25 << 20, counts, all), 1);
  assert_int_equal(counts[0], 14);
  assert_memory_equal(one_each, two, sizeof two);
  assert_memory_equal(one_each, all, sizeof all);
  double before[14];
  fill_vals(before, 14, 7);
  for (int i = 0; i < 14; i++) assert_true(one_each[i] != before[i]);   /* a step was taken */
  gc_graph_free(grads);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_buckets)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
