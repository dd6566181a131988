/* Whole runs on the backend under test (tests/backend_param.h; gc_test_run
 * is gc_interp_run's contract on it): checks of params and inputs, outputs,
 * updates, run-time errors; rand_uniform (Philox4x32-10) against the
 * generator's reference.  The interpreter's op coverage and its Philox
 * known answers do not depend on the backend (they run in both variants).
 * gc-test: every backend */
#include "tests/interp/interp_test.h"
#include "backends/interp/kernels.h"

static void test_covers_all_ops(void **state) {
  (void)state;
  assert_true(gc_interp_covers_all_ops());
}

/* ---- params, inputs, outputs, updates ---- */

/* w f32[8,16] param, x f32[4,8] input, y = x.w, output "y" */
static void build_linear(tg *t, gc_type wtype, gc_type xtype, bool give_x) {
  tg_init(t);
  gc_attrs pw = {.name = {.name = "w"}}, px = {.name = {.name = "x"}};
  gc_type w8 = TY(GC_F32, 8, 16), x4 = TY(GC_F32, 4, 8);
  int w = OP(t, GC_OP_PARAM, &pw, &w8);
  int x = OP(t, GC_OP_INPUT, &px, &x4);
  int y = OP(t, GC_OP_DOT, NULL, NULL, x, w);
  assert_int_equal(gc_graph_add_output(t->g, "y", y, &t->d), 0);
  gc_tensor_map_put(&t->params, "w", tensor_of(wtype, NULL));
  if (give_x) gc_tensor_map_put(&t->inputs, "x", tensor_of(xtype, NULL));
}

static void expect_run_error(tg *t, const char *msg) {
  gc_tensor_map out;
  gc_tensor_map_init(&out);
  assert_int_equal(gc_test_run(t->g, &t->params, &t->inputs, &out, &t->d), -1);
  assert_string_equal(t->d.msg, msg);
  assert_int_equal(out.n, 0);
  gc_tensor_map_clear(&out);
}

static void test_run_checks_params_and_inputs(void **state) {
  (void)state;
  tg t;
  build_linear(&t, TY(GC_F32, 8, 15), TY(GC_F32, 4, 8), true);
  expect_run_error(&t, "param \"w\": expected f32[8,16], got f32[8,15]");
  tg_free(&t);
  build_linear(&t, TY(GC_F32, 8, 16), TY(GC_F32, 4, 8), false);
  expect_run_error(&t, "input \"x\" is missing");
  tg_free(&t);
  build_linear(&t, TY(GC_F32, 8, 16), TY(GC_F64, 4, 8), true);
  expect_run_error(&t, "input \"x\": expected f32[4,8], got f64[4,8]");
  tg_free(&t);
  build_linear(&t, TY(GC_F32, 8, 16), TY(GC_F32, 4, 8), true);
  gc_tensor_free(gc_tensor_map_take(&t.params, "w"));
  expect_run_error(&t, "param \"w\" is missing");
  tg_free(&t);
}

static double load_named(const gc_tensor_map *m, const char *name, int64_t i) {
  gc_tensor *x = gc_tensor_map_get(m, name);
  if (!x) fail_msg("no tensor \"%s\"", name);
  return gc_tensor_load(x, i);
}

/* w -= g; step += 1; "w_old" = w (a copy), "loss" = sum(new w), "again" = new w */
static void test_run_updates(void **state) {
  (void)state;
  tg t;
  tg_init(&t);
  int w = tg_param(&t, "w", TY(GC_F32, 2), VALS(1, 2));
  int step = tg_param(&t, "step", TY0(GC_I64), VALS(0));
  int g = tg_input(&t, "g", TY(GC_F32, 2), VALS(0.5, -1));
  gc_type ti = TY0(GC_I64);
  gc_attrs one = {.value = {.value = 1}};
  int c1 = tg_op_(&t, GC_OP_CONST, NULL, 0, &one, &ti);
  int nw = OP(&t, GC_OP_SUB, NULL, NULL, w, g);
  int ns = OP(&t, GC_OP_ADD, NULL, NULL, step, c1);
  gc_attrs all = {.reduce = {.axes = {1, {0}}}};
  int loss = OP(&t, GC_OP_REDUCE_SUM, &all, NULL, nw);
  assert_int_equal(gc_graph_add_output(t.g, "w_old", w, &t.d), 0);
  assert_int_equal(gc_graph_add_output(t.g, "loss", loss, &t.d), 0);
  assert_int_equal(gc_graph_add_output(t.g, "again", nw, &t.d), 0);
  assert_int_equal(gc_graph_add_update(t.g, "w", nw, &t.d), 0);
  assert_int_equal(gc_graph_add_update(t.g, "step", ns, &t.d), 0);

  gc_tensor_map out;
  gc_tensor_map_init(&out);
  for (int run = 1; run <= 2; run++) {
    double w0 = 1 - 0.5 * (run - 1), w1 = 2 + (run - 1);   /* w before this run */
    assert_int_equal(gc_test_run(t.g, &t.params, &t.inputs, &out, &t.d), 0);
    assert_close(load_named(&out, "w_old", 0), w0, 0);
    assert_close(load_named(&out, "w_old", 1), w1, 0);
    assert_close(load_named(&out, "loss", 0), (w0 - 0.5) + (w1 + 1), 0);
    assert_close(load_named(&out, "again", 1), w1 + 1, 0);
    assert_close(load_named(&t.params, "w", 0), w0 - 0.5, 0);
    assert_close(load_named(&t.params, "w", 1), w1 + 1, 0);
    assert_close(load_named(&t.params, "step", 0), run, 0);
    /* outputs are copies, never the params' own tensors */
    assert_ptr_not_equal(gc_tensor_map_get(&out, "w_old"), gc_tensor_map_get(&t.params, "w"));
    assert_ptr_not_equal(gc_tensor_map_get(&out, "again"), gc_tensor_map_get(&t.params, "w"));
  }
  gc_tensor_map_clear(&out);
  tg_free(&t);
}

/* update "a" = b, update "b" = a: every read sees the old values, so they swap */
static void test_run_updates_read_old_values(void **state) {
  (void)state;
  tg t;
  tg_init(&t);
  int a = tg_param(&t, "a", TY(GC_F64, 2), VALS(1, 2));
  int b = tg_param(&t, "b", TY(GC_F64, 2), VALS(3, 4));
  assert_int_equal(gc_graph_add_update(t.g, "a", b, &t.d), 0);
  assert_int_equal(gc_graph_add_update(t.g, "b", a, &t.d), 0);
  gc_tensor_map out;
  gc_tensor_map_init(&out);
  assert_int_equal(gc_test_run(t.g, &t.params, &t.inputs, &out, &t.d), 0);
  assert_close(load_named(&t.params, "a", 0), 3, 0);
  assert_close(load_named(&t.params, "a", 1), 4, 0);
  assert_close(load_named(&t.params, "b", 0), 1, 0);
  assert_close(load_named(&t.params, "b", 1), 2, 0);
  gc_tensor_map_clear(&out);
  tg_free(&t);
}

/* A failing run (gather out of range) leaves params and outputs untouched. */
static void test_run_error_writes_nothing(void **state) {
  (void)state;
  tg t;
  tg_init(&t);
  int tab = tg_param(&t, "t", TY(GC_F32, 2), VALS(1, 2));
  int idx = tg_input(&t, "i", TY(GC_I32, 1), VALS(7));
  int y = OP(&t, GC_OP_GATHER, NULL, NULL, tab, idx);
  int z = OP(&t, GC_OP_NEG, NULL, NULL, tab);
  assert_int_equal(gc_graph_add_output(t.g, "y", y, &t.d), 0);
  assert_int_equal(gc_graph_add_update(t.g, "t", z, &t.d), 0);
  gc_tensor_map out;
  gc_tensor_map_init(&out);
  assert_int_equal(gc_test_run(t.g, &t.params, &t.inputs, &out, &t.d), -1);
  if (gc_test_on_interp())
    assert_string_equal(t.d.msg, "gather %2: index 7 (element 0 of the indices) is out of range "
                                 "[-2, 1] for axis 0 of size 2");
  else if (!strstr(t.d.msg, "gather %") || !strstr(t.d.msg, "index 7 ") || !strstr(t.d.msg, "of size 2"))
    fail_msg("the error does not name the gather, the index and the size: %s", t.d.msg);
  assert_int_equal(out.n, 0);
  assert_close(load_named(&t.params, "t", 0), 1, 0);
  gc_tensor_map_clear(&out);
  tg_free(&t);
}

/* A chain whose values die as it goes: each stays correct when freed early. */
static void test_run_long_chain(void **state) {
  (void)state;
  tg t;
  tg_init(&t);
  int x = tg_input(&t, "x", TY(GC_F64, 3), VALS(1, 2, 3));
  int v = x;
  for (int i = 0; i < 100; i++) {
    int d = OP(&t, GC_OP_ADD, NULL, NULL, v, x);   /* x stays live to the end */
    v = OP(&t, GC_OP_SUB, NULL, NULL, d, v);       /* = x again */
    v = OP(&t, GC_OP_ADD, NULL, NULL, v, v);       /* = 2x */
    v = OP(&t, GC_OP_SUB, NULL, NULL, v, x);       /* = x */
  }
  assert_int_equal(gc_graph_add_output(t.g, "v", v, &t.d), 0);
  assert_int_equal(gc_graph_add_output(t.g, "v2", v, &t.d), 0);
  gc_tensor_map out;
  gc_tensor_map_init(&out);
  assert_int_equal(gc_test_run(t.g, &t.params, &t.inputs, &out, &t.d), 0);
  for (int i = 0; i < 3; i++) {
    assert_close(load_named(&out, "v", i), i + 1, 0);
    assert_close(load_named(&out, "v2", i), i + 1, 0);
  }
  assert_ptr_not_equal(gc_tensor_map_get(&out, "v"), gc_tensor_map_get(&out, "v2"));
  gc_tensor_map_clear(&out);
  tg_free(&t);
}

/* ---- rand_uniform ---- */

static void test_philox_known_answers(void **state) {
  (void)state;
  /* Random123's kat_vectors for philox4x32_10 */
  static const uint32_t cases[3][10] = {
      {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
      {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
       0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
      {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0,
       0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
  };
  for (int i = 0; i < 3; i++) {
    uint32_t out[4];
    interp_philox4x32_10(cases[i], cases[i] + 4, out);
    for (int k = 0; k < 4; k++) assert_int_equal(out[k], cases[i][6 + k]);
  }
  /* seed 0, ctr 0, index 0 is the all-zero block: top 24 / 53 bits of it */
  assert_true(gc_rand_uniform_f32(0, 0, 0) == (float)0x6627e8 * 0x1p-24f);
  uint64_t bits = (UINT64_C(0x6627e8d5) << 32) | UINT64_C(0xe169c58d);
  assert_true(gc_rand_uniform_f64(0, 0, 0) == (double)(bits >> 11) * 0x1p-53);
}

/* rand_uniform of `n` elements for seed and the counter value `ctr`. */
static gc_tensor *draw(gc_dtype dt, int64_t n, int64_t seed, int64_t ctr) {
  tg t;
  tg_init(&t);
  int c = tg_input(&t, "ctr", TY0(GC_I64), VALS((double)ctr));
  gc_type ty = TY(dt, n);
  gc_attrs a = {.seed = {.seed = seed}};
  gc_tensor *x = tg_eval(&t, OP(&t, GC_OP_RAND_UNIFORM, &a, &ty, c));
  tg_free(&t);
  return x;
}

static void test_rand_uniform(void **state) {
  (void)state;
  const int64_t n = 100000;
  for (int d = 0; d < 2; d++) {
    gc_dtype dt = float_dtypes[d];
    gc_tensor *x = draw(dt, n, 7, 3), *again = draw(dt, n, 7, 3);
    gc_tensor *other_seed = draw(dt, n, 8, 3), *other_ctr = draw(dt, n, 7, 4);
    assert_memory_equal(x->data, again->data, gc_tensor_bytes(x));
    double sum = 0;
    int64_t same_seed = 0, same_ctr = 0;
    for (int64_t i = 0; i < n; i++) {
      double v = gc_tensor_load(x, i);
      assert_true(v >= 0 && v < 1);
      sum += v;
      same_seed += v == gc_tensor_load(other_seed, i);
      same_ctr += v == gc_tensor_load(other_ctr, i);
      double direct = dt == GC_F32 ? gc_rand_uniform_f32(7, 3, i) : gc_rand_uniform_f64(7, 3, i);
      if (i < 1000) assert_true(v == direct);
    }
    /* mean of 10^5 uniforms: sd = 1/sqrt(12e5) ~ 0.0009 */
    assert_close(sum / (double)n, 0.5, 0.005);
    assert_true(same_seed < 10);
    assert_true(same_ctr < 10);
    gc_tensor_free(x);
    gc_tensor_free(again);
    gc_tensor_free(other_seed);
    gc_tensor_free(other_ctr);
  }
  /* a huge or negative seed and counter are fine, and still in range */
  float f = gc_rand_uniform_f32(UINT64_MAX, -1, INT64_MAX);
  assert_true(f >= 0 && f < 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_covers_all_ops),
      cmocka_unit_test(test_run_checks_params_and_inputs),
      cmocka_unit_test(test_run_updates),
      cmocka_unit_test(test_run_updates_read_old_values),
      cmocka_unit_test(test_run_error_writes_nothing),
      cmocka_unit_test(test_run_long_chain),
      cmocka_unit_test(test_philox_known_answers),
      cmocka_unit_test(test_rand_uniform),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
