/* frontend/gc.h is all a user includes: a least-squares model built with
 * the builder, its training step appended (backward, clipping, AdamW),
 * compiled for the default backend and run; the loss falls. */
#include "tests/testutil.h"
#include "frontend/gc.h"

#include <math.h>

static void test_train_with_the_umbrella_header(void **state) {
  (void)state;
  gc_diag d;
  gc_builder *b = gc_builder_new("lsq", GC_F32);
  gc_val x = gc_input(b, "x", GC_F32, 2, (int64_t[]){32, 8});
  gc_val t = gc_input(b, "t", GC_F32, 2, (int64_t[]){32, 4});
  gc_val w = gc_param(b, "w", 2, (int64_t[]){8, 4}, gc_init_normal(0.5));
  gc_val err = gc_sub(b, gc_matmul(b, x, w), t);
  gc_output(b, "loss", gc_mean_all(b, gc_mul(b, err, err)));
  gc_init_table *inits = gc_builder_take_inits(b);
  gc_graph *g = gc_builder_finish(b, &d);
  if (!g) fail_msg("%s", d.msg);
  gc_optim_config opt;
  gc_optim_defaults(&opt);
  opt.lr = 0.05;
  opt.warmup = 0;
  assert_int_equal(gc_optim_append(g, "loss", &opt, &d), 0);

  gc_tensor_map params, inputs;
  gc_tensor_map_init(&params);
  gc_tensor_map_init(&inputs);
  assert_int_equal(gc_init_params(g, inits, 7, &params, &d), 0);
  gc_type tx = gc_type_make(GC_F32, 2, (int64_t[]){32, 8}), tt = gc_type_make(GC_F32, 2, (int64_t[]){32, 4});
  gc_tensor *xs = gc_tensor_new(&tx), *ts = gc_tensor_new(&tt);
  for (int i = 0; i < 32; i++)
    for (int j = 0; j < 8; j++) gc_tensor_store(xs, i * 8 + j, sin(i * 0.7 + j * 1.3));
  for (int i = 0; i < 32; i++)
    for (int k = 0; k < 4; k++) {
      double s = 0;   /* t = x · w* with w*[j][k] = (j - k) / 8 */
      for (int j = 0; j < 8; j++) s += sin(i * 0.7 + j * 1.3) * (j - k) / 8.0;
      gc_tensor_store(ts, i * 4 + k, s);
    }
  gc_tensor_map_put(&inputs, "x", xs);
  gc_tensor_map_put(&inputs, "t", ts);

  gc_program *p = gc_compile(g, NULL, &d);
  if (!p) fail_msg("%s", d.msg);
  assert_int_equal(gc_program_set_params(p, &params, true, &d), 0);
  assert_int_equal(gc_program_feed(p, &inputs, &d), 0);
  double first = 0, last = 0;
  for (int step = 0; step < 200; step++) {
    if (gc_program_run(p, &d)) fail_msg("%s", d.msg);
    last = gc_tensor_load(gc_program_output(p, "loss"), 0);
    if (step == 0) first = last;
  }
  print_message("loss %.4f -> %.6f in 200 steps\n", first, last);
  assert_true(last < first / 20);
  gc_program_free(p);
  gc_tensor_map_clear(&params);
  gc_tensor_map_clear(&inputs);
  gc_init_table_free(inits);
  gc_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_train_with_the_umbrella_header)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
