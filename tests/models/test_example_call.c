/* models/example_call.c, the example of an activation written in C: its
 * MLP's gradients, through the registered VJP (itself a call), pass the
 * f64 gradient check; in f32 the activation is C's own function, element
 * for element, and equal between the interpreter and the backend under
 * test bit for bit.
 * gc-test: every backend */
#include "tests/autodiff/gradcheck.h"
#include "models/example_call.h"

static int setup(void **state) {
  (void)state;
  return gc_example_register_calls();
}

/* The MLP on x [5, 3] -> [5, 2], loss sum(y * r), params at random. */
static gc_graph *mlp(gc_dtype dt, gc_tensor_map *params, gc_tensor_map *inputs, gc_test_rng *rng) {
  gc_builder *b = gc_builder_new("squareplus_mlp", dt);
  gc_val x = gc_input(b, "x", GC_FLOATX, GC_SHAPE(5, 3));
  gc_val r = gc_input(b, "r", GC_FLOATX, GC_SHAPE(5, 2));
  gc_val y = gc_example_squareplus_mlp(b, x, 3, 4, 2);
  gc_output(b, "y", y);
  gc_output(b, "loss", gc_sum_all(b, gc_mul(b, y, r)));
  gc_diag d = {0};
  gc_graph *g = gc_builder_finish(b, &d);
  if (!g) fail_msg("build: %s", d.msg);
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    if (!gc_op_is_fed(n->op)) continue;
    gc_tensor_map *m = n->op == GC_OP_PARAM ? params : inputs;
    gc_tensor_map_put(m, n->attrs.name.name, gc_rand_tensor(rng, n->type, -1.5, 1.5, 0));
  }
  return g;
}

static void test_gradients(void **state) {
  (void)state;
  gc_test_rng rng = {11};
  gc_tensor_map p, in;
  gc_tensor_map_init(&p), gc_tensor_map_init(&in);
  gc_graph *g = mlp(GC_F64, &p, &in, &rng);
  gc_gradcheck_opts o = {.what = "squareplus mlp"};
  gc_gradcheck(g, "loss", &p, &in, &o);
  gc_tensor_map_clear(&p), gc_tensor_map_clear(&in);
  gc_graph_free(g);
}

static void test_f32_equals_interpreter(void **state) {
  (void)state;
  gc_test_rng rng = {12};
  gc_tensor_map p, in, o1, o2;
  gc_tensor_map_init(&p), gc_tensor_map_init(&in), gc_tensor_map_init(&o1), gc_tensor_map_init(&o2);
  gc_builder *b = gc_builder_new("squareplus", GC_F32);
  gc_val x = gc_input(b, "x", GC_FLOATX, GC_SHAPE(7, 9));
  gc_output(b, "y", gc_example_squareplus_call(b, x, 0.5));
  gc_diag d = {0};
  gc_graph *g = gc_builder_finish(b, &d);
  if (!g) fail_msg("build: %s", d.msg);
  gc_tensor_map_put(&in, "x", gc_rand_tensor(&rng, g->nodes[0]->type, -3, 3, 0));
  if (gc_interp_run(g, &p, &in, &o1, &d)) fail_msg("interp: %s", d.msg);
  if (gc_test_run(g, &p, &in, &o2, &d)) fail_msg("%s: %s", gc_test_backend(), d.msg);
  gc_test_expect_bitwise("squareplus", gc_tensor_map_get(&o2, "y"), gc_tensor_map_get(&o1, "y"));
  const float *xs = gc_tensor_map_get(&in, "x")->data, *ys = gc_tensor_map_get(&o1, "y")->data;
  for (int i = 0; i < 63; i++) assert_true(ys[i] == (float)gc_example_squareplus(xs[i], 0.5));
  gc_tensor_map_clear(&p), gc_tensor_map_clear(&in), gc_tensor_map_clear(&o1), gc_tensor_map_clear(&o2);
  gc_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gradients),
      cmocka_unit_test(test_f32_equals_interpreter),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
