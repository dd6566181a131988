/* Gradient checks of every differentiable op: autodiff against central
 * finite differences in f64, on random inputs of ranks 0 to 4 with size-1
 * dims, broadcasting, both dot transposes and batch broadcasting.  Inputs
 * are kept away from kinks (abs at 0, division by ~0) and ties (max, min,
 * reduce_max).  On the backend under test (tests/backend_param.h).
 * gc-test: every backend */
#include "tests/autodiff/check.h"

#define N_SHAPES 4
static gc_type shape(int i) {
  switch (i) {
  case 0: return TY0(F64);
  case 1: return TY(F64, 5);
  case 2: return TY(F64, 2, 1, 3);
  default: return TY(F64, 2, 1, 3, 2);
  }
}

static void check_unary(gc_op op, double lo, double hi, double gap) {
  for (int s = 0; s < N_SHAPES; s++) {
    chk c;
    chk_begin(&c, gc_op_name(op), (uint64_t)(op * 10 + s));
    int x = chk_param(&c, "x", shape(s), lo, hi, gap);
    chk_finish(&c, gb_un(c.g, op, x), gc_op_name(op));
  }
}

static void test_unary(void **state) {
  (void)state;
  check_unary(GC_OP_NEG, -2, 2, 0);
  check_unary(GC_OP_ABS, -2, 2, 0.1);
  check_unary(GC_OP_EXP, -2, 2, 0);
  check_unary(GC_OP_LOG, 0.2, 3, 0);
  check_unary(GC_OP_SQRT, 0.2, 3, 0);
  check_unary(GC_OP_RSQRT, 0.2, 3, 0);
  check_unary(GC_OP_RECIP, -2, 2, 0.3);
  check_unary(GC_OP_TANH, -2, 2, 0);
  check_unary(GC_OP_SIGMOID, -3, 3, 0);
  check_unary(GC_OP_ERF, -2, 2, 0);
  check_unary(GC_OP_SIN, -3, 3, 0);
  check_unary(GC_OP_COS, -3, 3, 0);
}

/* cast f64 -> f64 through the rule (f32 round trips are checked by hand in
 * test_rules: finite differences cannot see through f32 rounding). */
static void test_cast(void **state) {
  (void)state;
  chk c;
  chk_begin(&c, "cast", 1);
  int x = chk_param(&c, "x", TY(F64, 3, 2), -2, 2, 0);
  chk_finish(&c, gb_un(c.g, GC_OP_EXP, gb_cast(c.g, x, GC_F64)), "cast");
}

/* b = a + offset with |offset| in [0.2, 1]: max/min never tie. */
static int param_apart(chk *c, const char *name, const char *of) {
  gc_tensor *a = gc_tensor_map_get(&c->params, of);
  gc_tensor *b = gc_tensor_clone(a);
  for (int64_t i = 0; i < gc_tensor_numel(b); i++) {
    double o = gc_test_rng_range(&c->rng, 0.2, 1.0);
    gc_tensor_store(b, i, gc_tensor_load(a, i) + (gc_test_rng_uniform(&c->rng) < 0.5 ? -o : o));
  }
  gc_type t = b->type;
  gc_tensor_map_put(&c->params, name, b);
  return gb_param(c->g, name, t);
}

static void check_binary(gc_op op, gc_type t, uint64_t seed) {
  chk c;
  chk_begin(&c, gc_op_name(op), seed);
  int a, b;
  switch (op) {
  case GC_OP_DIV:
    a = chk_param(&c, "a", t, -2, 2, 0);
    b = chk_param(&c, "b", t, -2, 2, 0.4);
    break;
  case GC_OP_POW:
    a = chk_param(&c, "a", t, 0.4, 2, 0);
    b = chk_param(&c, "b", t, -1.5, 2.5, 0);
    break;
  case GC_OP_MAX: case GC_OP_MIN:
    a = chk_param(&c, "a", t, -2, 2, 0);
    b = param_apart(&c, "b", "a");
    break;
  default:
    a = chk_param(&c, "a", t, -2, 2, 0);
    b = chk_param(&c, "b", t, -2, 2, 0);
  }
  chk_finish(&c, gb_bin(c.g, op, a, b), gc_op_name(op));
}

/* Both operands of one param: fan-out into the same op. */
static void check_binary_self(gc_op op) {
  chk c;
  chk_begin(&c, gc_op_name(op), 77);
  int a = chk_param(&c, "a", TY(F64, 4), 0.5, 2, 0);
  chk_finish(&c, gb_bin(c.g, op, a, a), gc_op_name(op));
}

static void test_binary(void **state) {
  (void)state;
  const gc_op ops[] = {GC_OP_ADD, GC_OP_SUB, GC_OP_MUL, GC_OP_DIV, GC_OP_MAX, GC_OP_MIN, GC_OP_POW};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    check_binary(ops[i], TY0(F64), 100 + i);
    check_binary(ops[i], TY(F64, 3, 1, 4), 200 + i);
    check_binary_self(ops[i]);
  }
}

/* a [4] and b [3,1] broadcast against each other into [2,3,4]. */
static void test_broadcast_binary(void **state) {
  (void)state;
  const gc_op ops[] = {GC_OP_ADD, GC_OP_SUB, GC_OP_MUL, GC_OP_DIV, GC_OP_POW};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    chk c;
    chk_begin(&c, gc_op_name(ops[i]), 300 + i);
    int a = chk_param(&c, "a", TY(F64, 4), 0.5, 2, 0);
    int b = chk_param(&c, "b", TY(F64, 2, 3, 1), 0.5, 2, 0);
    chk_finish(&c, gb_nb(c.g, ops[i], a, b), gc_op_name(ops[i]));
  }
}

static void test_where(void **state) {
  (void)state;
  chk c;
  chk_begin(&c, "where", 5);
  int sel = chk_input(&c, "sel", TY(F64, 3, 4), -1, 1);
  int cond = gb_bin(c.g, GC_OP_LT, sel, gb_const_like(c.g, 0, sel));
  int a = chk_param(&c, "a", TY(F64, 3, 4), -2, 2, 0);
  int b = chk_param(&c, "b", TY(F64, 3, 4), -2, 2, 0);
  chk_finish(&c, gb_where(c.g, cond, a, b), "where");
}

static void check_broadcast(gc_type from, gc_type to, uint64_t seed) {
  chk c;
  chk_begin(&c, "broadcast", seed);
  int x = chk_param(&c, "x", from, -2, 2, 0);
  chk_finish(&c, gb_bcast(c.g, x, to), "broadcast");
}

static void test_layout(void **state) {
  (void)state;
  check_broadcast(TY(F64, 3, 1), TY(F64, 2, 3, 4), 1);
  check_broadcast(TY0(F64), TY(F64, 2, 3), 2);
  check_broadcast(TY(F64, 1), TY(F64, 5, 1), 3);
  check_broadcast(TY(F64, 2, 1, 3), TY(F64, 4, 2, 5, 3), 4);
  chk c;
  chk_begin(&c, "reshape", 5);
  chk_finish(&c, gb_reshape(c.g, chk_param(&c, "x", TY(F64, 2, 3, 4), -2, 2, 0), TY(F64, 6, 4)), "reshape");
  chk_begin(&c, "reshape", 6);
  chk_finish(&c, gb_reshape(c.g, chk_param(&c, "x", TY0(F64), -2, 2, 0), TY(F64, 1, 1)), "reshape");
  chk_begin(&c, "transpose", 7);
  chk_finish(&c, gb_transpose(c.g, chk_param(&c, "x", TY(F64, 2, 3, 1, 4), -2, 2, 0), IL(3, 0, 2, 1)),
             "transpose");
  chk_begin(&c, "slice", 8);
  chk_finish(&c, gb_slice(c.g, chk_param(&c, "x", TY(F64, 5, 7), -2, 2, 0), IL(1, 0), IL(5, 7), IL(2, 3)),
             "slice(strided)");
  chk_begin(&c, "slice", 9);
  chk_finish(&c, gb_slice(c.g, chk_param(&c, "x", TY(F64, 4, 3, 2), -2, 2, 0), IL(1, 1, 0), IL(3, 3, 1), IL0()),
             "slice");
  chk_begin(&c, "slice", 10);
  chk_finish(&c, gb_slice(c.g, chk_param(&c, "x", TY(F64, 6, 4), -2, 2, 0), IL(2, 1), IL(6, 3), IL(3, 1)),
             "slice(mixed)");
  chk_begin(&c, "pad", 11);
  chk_finish(&c, gb_pad(c.g, chk_param(&c, "x", TY(F64, 3, 2), -2, 2, 0), IL(1, 0), IL(2, 3), 0.5), "pad");
  chk_begin(&c, "concat", 12);
  int parts[3] = {chk_param(&c, "a", TY(F64, 2, 1, 3), -2, 2, 0), chk_param(&c, "b", TY(F64, 2, 2, 3), -2, 2, 0),
                  chk_param(&c, "c", TY(F64, 2, 3, 3), -2, 2, 0)};
  chk_finish(&c, gb_concat(c.g, parts, 3, 1), "concat");
  chk_begin(&c, "concat", 13);
  int x = chk_param(&c, "x", TY(F64, 2, 2), -2, 2, 0);
  chk_finish(&c, gb_concat(c.g, (int[]){x, x}, 2, 0), "concat(self)");
}

static void check_reduce(gc_op op, gc_type t, gc_ilist axes, bool keep, uint64_t seed) {
  chk c;
  chk_begin(&c, gc_op_name(op), seed);
  int x = op == GC_OP_REDUCE_MAX ? chk_param_distinct(&c, "x", t, -1) : chk_param(&c, "x", t, -2, 2, 0);
  chk_finish(&c, gb_reduce(c.g, op, x, axes, keep), gc_op_name(op));
}

static void test_reduce(void **state) {
  (void)state;
  for (int k = 0; k < 2; k++) {
    gc_op op = k ? GC_OP_REDUCE_MAX : GC_OP_REDUCE_SUM;
    check_reduce(op, TY(F64, 2, 3, 4), IL(0, 2), false, 1);
    check_reduce(op, TY(F64, 2, 3, 4), IL(1), true, 2);
    check_reduce(op, TY(F64, 2, 3), IL(0, 1), false, 3);
    check_reduce(op, TY(F64, 2, 3), IL(0, 1), true, 4);
    check_reduce(op, TY(F64, 4), IL0(), false, 5);
    check_reduce(op, TY(F64, 2, 1, 3, 2), IL(1, 3), false, 6);
  }
}

static void check_dot(gc_type at, gc_type bt, bool ta, bool tb, uint64_t seed) {
  chk c;
  char what[64];
  snprintf(what, sizeof what, "dot(transpose_a=%d, transpose_b=%d)", ta, tb);
  chk_begin(&c, "dot", seed);
  int a = chk_param(&c, "a", at, -1, 1, 0);
  int b = chk_param(&c, "b", bt, -1, 1, 0);
  chk_finish(&c, gb_dot(c.g, a, b, ta, tb), what);
}

/* Logical shapes: A [.., 3, 4] and B [.., 4, 2]; each stored transposed
 * when its flag is set. */
static gc_type dot_operand(int rank, const int64_t *batch, int64_t r, int64_t k, bool t) {
  int64_t dims[GC_MAX_RANK];
  for (int i = 0; i < rank - 2; i++) dims[i] = batch[i];
  dims[rank - 2] = t ? k : r;
  dims[rank - 1] = t ? r : k;
  return gc_type_make(GC_F64, rank, dims);
}

static void test_dot(void **state) {
  (void)state;
  for (int f = 0; f < 4; f++) {
    bool ta = f & 1, tb = f & 2;
    check_dot(dot_operand(2, NULL, 3, 4, ta), dot_operand(2, NULL, 4, 2, tb), ta, tb, 10 + f);
    /* batch broadcasting: [2,1] against [3], and a rank-2 operand against a batch */
    check_dot(dot_operand(4, (int64_t[]){2, 1}, 3, 4, ta), dot_operand(3, (int64_t[]){3}, 4, 2, tb), ta, tb, 20 + f);
    check_dot(dot_operand(2, NULL, 3, 4, ta), dot_operand(3, (int64_t[]){2}, 4, 2, tb), ta, tb, 30 + f);
    check_dot(dot_operand(3, (int64_t[]){2}, 3, 4, ta), dot_operand(3, (int64_t[]){1}, 4, 2, tb), ta, tb, 40 + f);
  }
}

static void test_gather_scatter(void **state) {
  (void)state;
  chk c;
  chk_begin(&c, "gather", 1);
  int t = chk_param(&c, "table", TY(F64, 5, 3), -2, 2, 0);
  int idx = chk_index(&c, "idx", TY(I64, 2, 2), (int64_t[]){4, 0, 4, 2});
  chk_finish(&c, gb_gather(c.g, t, idx, 0), "gather(axis=0)");
  chk_begin(&c, "gather", 2);
  t = chk_param(&c, "table", TY(F64, 2, 5, 3), -2, 2, 0);
  idx = chk_index(&c, "idx", TY(I32, 4), (int64_t[]){1, 1, 3, 0});
  chk_finish(&c, gb_gather(c.g, t, idx, 1), "gather(axis=1)");
  chk_begin(&c, "scatter_add", 3);
  int src = chk_param(&c, "src", TY(F64, 4, 3), -2, 2, 0);
  idx = chk_index(&c, "idx", TY(I64, 4), (int64_t[]){2, 0, 2, 4});
  chk_finish(&c, gb_scatter(c.g, idx, src, 0, TY(F64, 5, 3)), "scatter_add");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unary),     cmocka_unit_test(test_cast),   cmocka_unit_test(test_binary),
      cmocka_unit_test(test_broadcast_binary), cmocka_unit_test(test_where), cmocka_unit_test(test_layout),
      cmocka_unit_test(test_reduce),    cmocka_unit_test(test_dot),    cmocka_unit_test(test_gather_scatter),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
