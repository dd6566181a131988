/* The builder: broadcasting, first-error recording, reshape, matmul, layout,
 * reductions, scopes and params, init. */
#include "tests/frontend/nn_testutil.h"
#include "backends/runtime/random_fill.h"

/* Count the nodes of op `op` in g. */
static int count_op(const gc_graph *g, gc_op op) {
  int n = 0;
  for (int i = 0; i < g->n_nodes; i++) n += g->nodes[i]->op == op;
  return n;
}

static void test_broadcast_inserts_nodes(void **state) {
  (void)state;
  gc_builder *b = gc_builder_new("t", GC_F32);
  gc_val x = gc_input(b, "x", GC_F32, GC_SHAPE(2, 3));
  gc_val y = gc_input(b, "y", GC_F32, GC_SHAPE(3));
  gc_val c = gc_input(b, "c", GC_F32, GC_SHAPE(2, 1));
  gc_val z = gc_add(b, x, y);                 /* y -> [2,3] */
  gc_val w = gc_mul(b, z, c);                 /* c -> [2,3] */
  gc_val s = gc_add(b, w, gc_constf(b, 1.0)); /* scalar -> [2,3] */
  gc_output(b, "out", s);
  gc_graph *g = finish_ok(b);
  const gc_node *add = g->nodes[gc_val_node(z)];
  assert_int_equal(add->op, GC_OP_ADD);
  assert_int_equal(add->in[0], gc_val_node(x));                      /* x untouched */
  const gc_node *by = g->nodes[add->in[1]];
  assert_int_equal(by->op, GC_OP_BROADCAST);
  assert_int_equal(by->in[0], gc_val_node(y));
  char buf[GC_TYPE_STR_MAX];
  assert_string_equal(gc_type_str(&by->type, buf, sizeof buf), "f32[2,3]");
  assert_int_equal(count_op(g, GC_OP_BROADCAST), 3);
  assert_int_equal(count_op(g, GC_OP_RESHAPE), 0);
  /* values: (x + y) * c + 1 */
  gc_tensor_map in;
  gc_tensor_map_init(&in);
  put(&in, "x", GC_F32, GC_SHAPE(2, 3), (double[]){1, 2, 3, 4, 5, 6});
  put(&in, "y", GC_F32, GC_SHAPE(3), (double[]){10, 20, 30});
  put(&in, "c", GC_F32, GC_SHAPE(2, 1), (double[]){2, -1});
  gc_tensor *o = run_out(g, NULL, &in, "out");
  double want[6] = {23, 45, 67, -13, -24, -35};
  for (int i = 0; i < 6; i++) assert_close(at(o, i), want[i], 0);
  gc_tensor_free(o);
  gc_tensor_map_clear(&in);
  gc_graph_free(g);
}

static void test_error_kept_with_label_and_shapes(void **state) {
  (void)state;
  gc_builder *b = gc_builder_new("t", GC_F32);
  gc_val x = gc_input(b, "x", GC_F32, GC_SHAPE(2, 8, 128));
  gc_push(b, "model");
  gc_push(b, "layers.%d", 0);
  gc_push(b, "mlp.up_proj");
  gc_val w = gc_param(b, "weight", GC_SHAPE(384, 64), gc_init_zeros());
  assert_null(gc_builder_error(b));
  gc_val y = gc_matmul(b, x, w);
  assert_true(gc_is_none(y));
  const char *e = gc_builder_error(b);
  assert_non_null(e);
  assert_string_equal(e, "matmul at \"model.layers.0.mlp.up_proj\": shapes f32[2,8,128] and "
                         "f32[384,64] do not contract (128 vs 384)");
  /* later calls are no-ops and keep the first error */
  int n = gc_builder_graph(b)->n_nodes;
  assert_true(gc_is_none(gc_add(b, x, x)));
  assert_true(gc_is_none(gc_param(b, "bias", GC_SHAPE(4), gc_init_zeros())));
  assert_true(gc_is_none(gc_reshape(b, x, GC_SHAPE(-1, -1))));
  gc_output(b, "y", y);
  assert_int_equal(gc_builder_graph(b)->n_nodes, n);
  assert_string_equal(gc_builder_error(b), e);
  gc_pop(b);
  gc_pop(b);
  gc_pop(b);
  gc_diag d = {0};
  assert_null(gc_builder_finish(b, &d));
  assert_non_null(strstr(d.msg, "do not contract"));
}

static void test_error_messages(void **state) {
  (void)state;
  /* broadcast failure names both shapes; top level has no label */
  gc_builder *b = gc_builder_new("t", GC_F64);
  gc_val x = gc_input(b, "x", GC_FLOATX, GC_SHAPE(2, 3));
  gc_val y = gc_input(b, "y", GC_FLOATX, GC_SHAPE(4));
  gc_add(b, x, y);
  assert_string_equal(gc_builder_error(b), "add: shapes f64[2,3] and f64[4] do not broadcast (dim 1: 3 vs 4)");
  gc_builder_free(b);
  /* dtype mismatch */
  b = gc_builder_new("t", GC_F32);
  x = gc_input(b, "x", GC_F32, GC_SHAPE(2));
  y = gc_input(b, "i", GC_I64, GC_SHAPE(2));
  gc_push(b, "blk");
  gc_sub(b, x, y);
  assert_string_equal(gc_builder_error(b), "sub at \"blk\": shapes f32[2] and i64[2] differ in dtype (use gc_cast)");
  gc_builder_free(b);
  /* a GC_NONE operand is an error too, and a param asked with another shape */
  b = gc_builder_new("t", GC_F32);
  gc_exp(b, GC_NONE);
  assert_non_null(strstr(gc_builder_error(b), "exp: operand 1 is not a value"));
  gc_builder_free(b);
  b = gc_builder_new("t", GC_F32);
  gc_param(b, "w", GC_SHAPE(2), gc_init_zeros());
  gc_param(b, "w", GC_SHAPE(3), gc_init_zeros());
  assert_string_equal(gc_builder_error(b), "param: \"w\" asked for as f32[3] but it exists as f32[2]");
  gc_builder_free(b);
  /* reduce axis out of range, negative ok */
  b = gc_builder_new("t", GC_F32);
  x = gc_input(b, "x", GC_F32, GC_SHAPE(2, 3));
  assert_false(gc_is_none(gc_sum(b, x, GC_AXES(-1), false)));
  gc_sum(b, x, GC_AXES(2), false);
  assert_string_equal(gc_builder_error(b), "sum: shape f32[2,3] has no axis 2");
  gc_builder_free(b);
}

static void test_reshape_infer(void **state) {
  (void)state;
  char buf[GC_TYPE_STR_MAX];
  gc_builder *b = gc_builder_new("t", GC_F32);
  gc_val x = gc_input(b, "x", GC_F32, GC_SHAPE(2, 3, 4));
  gc_val y = gc_reshape(b, x, GC_SHAPE(-1, 4));
  gc_type t = gc_type_of(b, y);
  assert_string_equal(gc_type_str(&t, buf, sizeof buf), "f32[6,4]");
  t = gc_type_of(b, gc_reshape(b, x, GC_SHAPE(4, -1, 2)));
  assert_string_equal(gc_type_str(&t, buf, sizeof buf), "f32[4,3,2]");
  assert_int_equal(gc_val_node(gc_reshape(b, x, GC_SHAPE(2, -1, 4))), gc_val_node(x)); /* no-op */
  t = gc_type_of(b, gc_unsqueeze(b, x, -1));
  assert_string_equal(gc_type_str(&t, buf, sizeof buf), "f32[2,3,4,1]");
  assert_null(gc_builder_error(b));
  gc_reshape(b, x, GC_SHAPE(5, -1));
  assert_string_equal(gc_builder_error(b), "reshape: shape f32[2,3,4] cannot be reshaped to [5,-1]");
  gc_builder_free(b);
  b = gc_builder_new("t", GC_F32);
  x = gc_input(b, "x", GC_F32, GC_SHAPE(2, 3, 4));
  gc_reshape(b, x, GC_SHAPE(-1, -1));
  assert_non_null(strstr(gc_builder_error(b), "only one -1"));
  gc_builder_free(b);
}

/* matmul with numpy semantics against a naive loop */
static void test_matmul_batch_broadcast(void **state) {
  (void)state;
  double a[2 * 1 * 3 * 4], c[5 * 4 * 2];
  fill_vals(a, 24, 1);
  fill_vals(c, 40, 2);
  gc_builder *b = gc_builder_new("t", GC_F64);
  gc_val x = gc_input(b, "a", GC_F64, GC_SHAPE(2, 1, 3, 4));
  gc_val y = gc_input(b, "c", GC_F64, GC_SHAPE(5, 4, 2));
  gc_val z = gc_matmul(b, x, y);
  char buf[GC_TYPE_STR_MAX];
  gc_type t = gc_type_of(b, z);
  assert_string_equal(gc_type_str(&t, buf, sizeof buf), "f64[2,5,3,2]");
  gc_output(b, "z", z);
  /* 1-D operands */
  gc_val v = gc_input(b, "v", GC_F64, GC_SHAPE(4));
  gc_val vv = gc_matmul(b, v, v);
  t = gc_type_of(b, vv);
  assert_string_equal(gc_type_str(&t, buf, sizeof buf), "f64[]");
  gc_val yv = gc_matmul(b, x, v);
  t = gc_type_of(b, yv);
  assert_string_equal(gc_type_str(&t, buf, sizeof buf), "f64[2,1,3]");
  gc_val vy = gc_matmul(b, v, y);
  t = gc_type_of(b, vy);
  assert_string_equal(gc_type_str(&t, buf, sizeof buf), "f64[5,2]");
  gc_output(b, "vv", vv);
  gc_output(b, "vy", vy);
  gc_graph *g = finish_ok(b);
  gc_tensor_map in;
  gc_tensor_map_init(&in);
  put(&in, "a", GC_F64, GC_SHAPE(2, 1, 3, 4), a);
  put(&in, "c", GC_F64, GC_SHAPE(5, 4, 2), c);
  put(&in, "v", GC_F64, GC_SHAPE(4), (double[]){1, -2, 0.5, 3});
  gc_tensor *o = run_out(g, NULL, &in, "z");
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 5; j++)
      for (int m = 0; m < 3; m++)
        for (int n = 0; n < 2; n++) {
          double s = 0;
          for (int k = 0; k < 4; k++) s += a[(i * 3 + m) * 4 + k] * c[(j * 4 + k) * 2 + n];
          assert_close(at(o, ((i * 5 + j) * 3 + m) * 2 + n), s, 1e-12);
        }
  gc_tensor_free(o);
  o = run_out(g, NULL, &in, "vv");
  assert_close(at(o, 0), 1 + 4 + 0.25 + 9, 1e-12);
  gc_tensor_free(o);
  o = run_out(g, NULL, &in, "vy");
  double vec[4] = {1, -2, 0.5, 3};
  for (int j = 0; j < 5; j++)
    for (int n = 0; n < 2; n++) {
      double s = 0;
      for (int k = 0; k < 4; k++) s += vec[k] * c[(j * 4 + k) * 2 + n];
      assert_close(at(o, j * 2 + n), s, 1e-12);
    }
  gc_tensor_free(o);
  gc_tensor_map_clear(&in);
  gc_graph_free(g);
}

static void test_layout_and_reductions(void **state) {
  (void)state;
  gc_builder *b = gc_builder_new("t", GC_F32);
  gc_val x = gc_input(b, "x", GC_F32, GC_SHAPE(2, 3));      /* [[0,1,2],[3,4,5]] */
  gc_output(b, "t", gc_transpose(b, x, GC_AXES(-1, 0)));      /* [[0,3],[1,4],[2,5]] */
  gc_output(b, "s", gc_slice(b, x, -1, -2, 3, 1));            /* [[1,2],[4,5]] */
  gc_output(b, "st", gc_slice(b, x, 1, 0, 3, 2));             /* [[0,2],[3,5]] */
  gc_output(b, "cat", gc_concat(b, 2, (gc_val[]){x, x}, 0));
  gc_output(b, "sum", gc_sum(b, x, GC_AXES(-2), true));       /* [[3,5,7]] */
  gc_output(b, "mean", gc_mean_all(b, x));                     /* 2.5 */
  gc_output(b, "max", gc_max_reduce(b, x, GC_AXES(1), false)); /* [2,5] */
  gc_output(b, "argmax", gc_argmax(b, gc_neg(b, x), -1, false)); /* [0,0] */
  gc_val idx = gc_input(b, "idx", GC_I64, GC_SHAPE(3));
  gc_output(b, "gather", gc_gather(b, x, idx));                /* rows 1,0,1 */
  gc_val cond = gc_gt(b, x, gc_const_like(b, x, 2.5));
  gc_output(b, "where", gc_where(b, cond, x, gc_constf(b, -1)));
  gc_output(b, "pad", gc_pad(b, x, (int64_t[]){0, 1}, (int64_t[]){1, 0}, 9));
  gc_graph *g = finish_ok(b);
  gc_tensor_map in;
  gc_tensor_map_init(&in);
  put(&in, "x", GC_F32, GC_SHAPE(2, 3), (double[]){0, 1, 2, 3, 4, 5});
  put(&in, "idx", GC_I64, GC_SHAPE(3), (double[]){1, 0, 1});
  struct { const char *name; int n; double v[12]; } want[] = {
      {"t", 6, {0, 3, 1, 4, 2, 5}},
      {"s", 4, {1, 2, 4, 5}},
      {"st", 4, {0, 2, 3, 5}},
      {"cat", 12, {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5}},
      {"sum", 3, {3, 5, 7}},
      {"mean", 1, {2.5}},
      {"max", 2, {2, 5}},
      {"argmax", 2, {0, 0}},
      {"gather", 9, {3, 4, 5, 0, 1, 2, 3, 4, 5}},
      {"where", 6, {-1, -1, -1, 3, 4, 5}},
      {"pad", 12, {9, 0, 1, 2, 9, 3, 4, 5, 9, 9, 9, 9}},
  };
  for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
    gc_tensor *o = run_out(g, NULL, &in, want[k].name);
    assert_int_equal(gc_tensor_numel(o), want[k].n);
    for (int i = 0; i < want[k].n; i++) assert_close(at(o, i), want[k].v[i], 1e-6);
    gc_tensor_free(o);
  }
  gc_tensor_map_clear(&in);
  gc_graph_free(g);
}

static void test_scopes_params_labels(void **state) {
  (void)state;
  gc_builder *b = gc_builder_new("t", GC_F64);
  gc_push(b, "model");
  gc_push(b, "embed_tokens");
  gc_val e = gc_param(b, "weight", GC_SHAPE(10, 4), gc_init_normal(0.02));
  gc_pop(b);
  gc_push(b, "layers.%d", 3);
  assert_string_equal(gc_scope(b), "model.layers.3");
  gc_val s = gc_mulf(b, e, 2.0);
  gc_pop(b);
  gc_pop(b);
  assert_string_equal(gc_scope(b), "");
  /* tied: the same full name is the same node */
  gc_val again = gc_find_param(b, "model.embed_tokens.weight");
  assert_int_equal(again.ref, e.ref);
  gc_push(b, "model.embed_tokens");
  assert_int_equal(gc_param(b, "weight", GC_SHAPE(10, 4), gc_init_zeros()).ref, e.ref);
  gc_pop(b);
  gc_val step = gc_param_full(b, "opt.step", GC_I64, 0, NULL, gc_init_zeros());
  gc_update(b, "opt.step", gc_addf(b, step, 1));
  gc_output(b, "s", s);
  gc_label(b, s, "scaled");
  gc_graph *g0 = gc_builder_graph(b);
  assert_string_equal(g0->nodes[gc_val_node(s)]->label, "scaled");
  assert_string_equal(g0->nodes[gc_val_node(e)]->attrs.name.name, "model.embed_tokens.weight");
  assert_int_equal(g0->nodes[gc_val_node(e)]->type.dtype, GC_F64);
  /* the const made inside "model.layers.3" carries that label */
  const gc_node *mul = g0->nodes[gc_val_node(s)];
  assert_string_equal(g0->nodes[mul->in[1]]->label, "model.layers.3");
  gc_init_table *inits = gc_builder_take_inits(b);
  assert_int_equal(inits->n, 2);
  assert_int_equal(gc_init_table_find(inits, "model.embed_tokens.weight")->kind, GC_INIT_NORMAL);
  gc_graph *g = finish_ok(b);
  char *text = gc_print(g);
  assert_non_null(strstr(text, "label=\"model.layers.3\""));
  assert_non_null(strstr(text, "param \"model.embed_tokens.weight\""));
  free(text);
  gc_init_table_free(inits);
  gc_graph_free(g);
  /* unbalanced pop is an error, not a crash */
  b = gc_builder_new("t", GC_F32);
  gc_pop(b);
  assert_non_null(gc_builder_error(b));
  gc_builder_free(b);
}

/* Build a graph with params declared in the given order. */
static gc_graph *init_graph(bool reversed, gc_init_table **inits) {
  gc_builder *b = gc_builder_new("t", GC_F32);
  for (int k = 0; k < 3; k++) {
    int i = reversed ? 2 - k : k;
    if (i == 0) gc_param(b, "big", GC_SHAPE(100, 100), gc_init_normal(0.02));
    if (i == 1) gc_param(b, "norm", GC_SHAPE(8), gc_init_ones());
    if (i == 2) gc_param(b, "bias", GC_SHAPE(8), gc_init_zeros());
  }
  gc_param_full(b, "moment", GC_F32, GC_SHAPE(8), gc_init_zeros());
  gc_param_full(b, "shift", GC_F32, GC_SHAPE(2), gc_init_const(0.5));
  gc_set_init(b, "bias", gc_init_const(-2));
  *inits = gc_builder_take_inits(b);
  return finish_ok(b);
}

static void test_init_deterministic(void **state) {
  (void)state;
  gc_init_table *i1, *i2;
  gc_graph *g1 = init_graph(false, &i1), *g2 = init_graph(true, &i2);
  gc_tensor_map m1, m2, m3;
  gc_tensor_map_init(&m1);
  gc_tensor_map_init(&m2);
  gc_tensor_map_init(&m3);
  gc_diag d = {0};
  assert_int_equal(gc_init_params(g1, i1, 42, &m1, &d), 0);
  assert_int_equal(gc_init_params(g2, i2, 42, &m2, &d), 0);
  /* a loaded tensor is kept */
  put(&m3, "norm", GC_F32, GC_SHAPE(8), (double[]){7, 7, 7, 7, 7, 7, 7, 7});
  assert_int_equal(gc_init_params(g1, i1, 43, &m3, &d), 0);
  gc_tensor *a = gc_tensor_map_get(&m1, "big"), *c = gc_tensor_map_get(&m2, "big");
  gc_tensor *other = gc_tensor_map_get(&m3, "big");
  assert_memory_equal(a->data, c->data, gc_tensor_bytes(a));          /* order-independent */
  assert_true(memcmp(a->data, other->data, gc_tensor_bytes(a)) != 0); /* seed matters */
  double s = 0, s2 = 0;
  for (int64_t i = 0; i < 10000; i++) {
    s += at(a, i);
    s2 += at(a, i) * at(a, i);
  }
  double mean = s / 10000, sd = sqrt(s2 / 10000 - mean * mean);
  assert_true(fabs(mean) < 0.001);        /* 5 standard errors: 0.02/100*5 */
  assert_true(fabs(sd - 0.02) < 0.001);   /* ~3.5 standard errors */
  for (int i = 0; i < 8; i++) {
    assert_close(at(gc_tensor_map_get(&m1, "norm"), i), 1, 0);
    assert_close(at(gc_tensor_map_get(&m1, "bias"), i), -2, 0);
    assert_close(at(gc_tensor_map_get(&m1, "moment"), i), 0, 0);
    assert_close(at(gc_tensor_map_get(&m3, "norm"), i), 7, 0);
  }
  assert_close(at(gc_tensor_map_get(&m1, "shift"), 1), 0.5, 0);
  /* the generator is the documented one: gc_fill_normal of seed ^ fnv1a64(name) */
  uint64_t st = 42, h = 0xcbf29ce484222325ULL;
  for (const char *p = "big"; *p; p++) h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
  gc_tensor *want = gc_tensor_new(&a->type);
  assert_non_null(want);
  gc_fill_normal(want, st ^ h, 0, 0.02);
  assert_memory_equal(a->data, want->data, gc_tensor_bytes(a));
  gc_tensor_free(want);
  gc_tensor_map_clear(&m1);
  gc_tensor_map_clear(&m2);
  gc_tensor_map_clear(&m3);
  gc_init_table_free(i1);
  gc_init_table_free(i2);
  gc_graph_free(g1);
  gc_graph_free(g2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_broadcast_inserts_nodes),
      cmocka_unit_test(test_error_kept_with_label_and_shapes),
      cmocka_unit_test(test_error_messages),
      cmocka_unit_test(test_reshape_infer),
      cmocka_unit_test(test_matmul_batch_broadcast),
      cmocka_unit_test(test_layout_and_reductions),
      cmocka_unit_test(test_scopes_params_labels),
      cmocka_unit_test(test_init_deterministic),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
