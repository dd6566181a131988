/* The elementwise ops: unary, binary, compare, where, cast, const, iota — in
 * f32 and f64 where floats are accepted, plus the integer semantics (wrap,
 * div by 0).  Expected values worked out by hand; checked on the backend
 * under test (tests/backend_param.h).
 * gc-test: every backend */
#include "tests/interp/interp_test.h"

#include <math.h>

typedef struct {
  gc_op op;
  double want[4];
} unary_case;

static void test_unary_float(void **state) {
  (void)state;
  /* x = [-1, 0, 0.5, 2], y = [0.25, 1, 4, 16] */
  static const unary_case on_x[] = {
      {GC_OP_NEG, {1, 0, -0.5, -2}},
      {GC_OP_ABS, {1, 0, 0.5, 2}},
      {GC_OP_EXP, {0.36787944117144233, 1, 1.6487212707001282, 7.38905609893065}},
      {GC_OP_TANH, {-0.7615941559557649, 0, 0.46211715726000974, 0.9640275800758169}},
      {GC_OP_SIGMOID, {0.2689414213699951, 0.5, 0.6224593312018546, 0.8807970779778823}},
      {GC_OP_ERF, {-0.8427007929497149, 0, 0.5204998778130465, 0.9953222650189527}},
      {GC_OP_SIN, {-0.8414709848078965, 0, 0.479425538604203, 0.9092974268256817}},
      {GC_OP_COS, {0.5403023058681398, 1, 0.8775825618903728, -0.4161468365471424}},
  };
  static const unary_case on_y[] = {
      {GC_OP_LOG, {-1.3862943611198906, 0, 1.3862943611198906, 2.772588722239781}},
      {GC_OP_SQRT, {0.5, 1, 2, 4}},
      {GC_OP_RSQRT, {2, 1, 0.5, 0.25}},
      {GC_OP_RECIP, {4, 1, 0.25, 0.0625}},
  };
  for (int d = 0; d < 2; d++) {
    gc_dtype dt = float_dtypes[d];
    tg t;
    tg_init(&t);
    int x = tg_input(&t, "x", TY(dt, 4), VALS(-1, 0, 0.5, 2));
    int y = tg_input(&t, "y", TY(dt, 4), VALS(0.25, 1, 4, 16));
    for (size_t i = 0; i < sizeof on_x / sizeof *on_x; i++)
      expect_node(&t, OP(&t, on_x[i].op, NULL, NULL, x), TN(dt, "[4]"), on_x[i].want, tol_of(dt));
    for (size_t i = 0; i < sizeof on_y / sizeof *on_y; i++)
      expect_node(&t, OP(&t, on_y[i].op, NULL, NULL, y), TN(dt, "[4]"), on_y[i].want, tol_of(dt));
    tg_free(&t);
  }
}

static void test_sigmoid_is_stable(void **state) {
  (void)state;
  for (int d = 0; d < 2; d++) {
    gc_dtype dt = float_dtypes[d];
    tg t;
    tg_init(&t);
    int x = tg_input(&t, "x", TY(dt, 3), VALS(-1000, 1000, -30));
    expect_node(&t, OP(&t, GC_OP_SIGMOID, NULL, NULL, x), TN(dt, "[3]"),
                VALS(0, 1, 9.357622968839299e-14), tol_of(dt));
    tg_free(&t);
  }
}

typedef struct {
  gc_op op;
  double want[4];
} binary_case;

static void test_binary_float(void **state) {
  (void)state;
  /* a = [1, -2, 3.5, 0], b = [2, 4, -0.5, 8] */
  static const binary_case cases[] = {
      {GC_OP_ADD, {3, 2, 3, 8}},      {GC_OP_SUB, {-1, -6, 4, -8}},
      {GC_OP_MUL, {2, -8, -1.75, 0}}, {GC_OP_DIV, {0.5, -0.5, -7, 0}},
      {GC_OP_MAX, {2, 4, 3.5, 8}},    {GC_OP_MIN, {1, -2, -0.5, 0}},
  };
  for (int d = 0; d < 2; d++) {
    gc_dtype dt = float_dtypes[d];
    tg t;
    tg_init(&t);
    int a = tg_input(&t, "a", TY(dt, 4), VALS(1, -2, 3.5, 0));
    int b = tg_input(&t, "b", TY(dt, 4), VALS(2, 4, -0.5, 8));
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
      expect_node(&t, OP(&t, cases[i].op, NULL, NULL, a, b), TN(dt, "[4]"), cases[i].want, 0);
    int p = tg_input(&t, "p", TY(dt, 4), VALS(2, 4, 9, 1.5));
    int q = tg_input(&t, "q", TY(dt, 4), VALS(3, 0.5, -0.5, 2));
    expect_node(&t, OP(&t, GC_OP_POW, NULL, NULL, p, q), TN(dt, "[4]"), VALS(8, 2, 1.0 / 3, 2.25),
                tol_of(dt));
    /* max and min propagate NaN from either side */
    int n = tg_input(&t, "n", TY(dt, 2), VALS(NAN, 1));
    int m = tg_input(&t, "m", TY(dt, 2), VALS(1, NAN));
    expect_node(&t, OP(&t, GC_OP_MAX, NULL, NULL, n, m), TN(dt, "[2]"), VALS(NAN, NAN), 0);
    expect_node(&t, OP(&t, GC_OP_MIN, NULL, NULL, n, m), TN(dt, "[2]"), VALS(NAN, NAN), 0);
    tg_free(&t);
  }
}

static void test_int_arithmetic(void **state) {
  (void)state;
  tg t;
  tg_init(&t);
  int a = tg_input(&t, "a", TY(GC_I32, 5), VALS(7, -7, 5, INT32_MIN, 3));
  int b = tg_input(&t, "b", TY(GC_I32, 5), VALS(2, 2, 0, -1, -4));
  expect_node(&t, OP(&t, GC_OP_ADD, NULL, NULL, a, b), "i32[5]", VALS(9, -5, 5, INT32_MAX, -1), 0);
  expect_node(&t, OP(&t, GC_OP_SUB, NULL, NULL, a, b), "i32[5]", VALS(5, -9, 5, INT32_MIN + 1, 7), 0);
  expect_node(&t, OP(&t, GC_OP_MUL, NULL, NULL, a, b), "i32[5]", VALS(14, -14, 0, INT32_MIN, -12), 0);
  /* truncating division; x / 0 is 0; MIN / -1 is MIN */
  expect_node(&t, OP(&t, GC_OP_DIV, NULL, NULL, a, b), "i32[5]", VALS(3, -3, 0, INT32_MIN, 0), 0);
  expect_node(&t, OP(&t, GC_OP_MAX, NULL, NULL, a, b), "i32[5]", VALS(7, 2, 5, -1, 3), 0);
  expect_node(&t, OP(&t, GC_OP_NEG, NULL, NULL, a), "i32[5]", VALS(-7, 7, -5, INT32_MIN, -3), 0);
  expect_node(&t, OP(&t, GC_OP_ABS, NULL, NULL, a), "i32[5]", VALS(7, 7, 5, INT32_MIN, 3), 0);

  int c = tg_input(&t, "c", TY(GC_I64, 5), VALS(7, -7, 5, -9, -0x1p63));
  int e = tg_input(&t, "e", TY(GC_I64, 5), VALS(2, 2, 0, 4, -1));
  gc_tensor *q = tg_eval(&t, OP(&t, GC_OP_DIV, NULL, NULL, c, e));
  gc_tensor *s = tg_eval(&t, OP(&t, GC_OP_ADD, NULL, NULL, c, e));
  gc_tensor *m = tg_eval(&t, OP(&t, GC_OP_MUL, NULL, NULL, c, e));
  const int64_t *qv = q->data, *sv = s->data, *mv = m->data;
  int64_t want_q[5] = {3, -3, 0, -2, INT64_MIN}, want_s[5] = {9, -5, 5, -5, INT64_MAX};
  int64_t want_m[5] = {14, -14, 0, -36, INT64_MIN};
  for (int i = 0; i < 5; i++) {
    assert_true(qv[i] == want_q[i]);
    assert_true(sv[i] == want_s[i]);
    assert_true(mv[i] == want_m[i]);
  }
  gc_tensor_free(q);
  gc_tensor_free(s);
  gc_tensor_free(m);
  tg_free(&t);
}

static void test_compare_and_where(void **state) {
  (void)state;
  for (int d = 0; d < 2; d++) {
    gc_dtype dt = float_dtypes[d];
    tg t;
    tg_init(&t);
    int a = tg_input(&t, "a", TY(dt, 4), VALS(1, 2, 3, NAN));
    int b = tg_input(&t, "b", TY(dt, 4), VALS(2, 2, 1, NAN));
    expect_node(&t, OP(&t, GC_OP_LT, NULL, NULL, a, b), "bool[4]", VALS(1, 0, 0, 0), 0);
    expect_node(&t, OP(&t, GC_OP_LE, NULL, NULL, a, b), "bool[4]", VALS(1, 1, 0, 0), 0);
    expect_node(&t, OP(&t, GC_OP_EQ, NULL, NULL, a, b), "bool[4]", VALS(0, 1, 0, 0), 0);
    expect_node(&t, OP(&t, GC_OP_NE, NULL, NULL, a, b), "bool[4]", VALS(1, 0, 1, 1), 0);
    int c = tg_input(&t, "c", TY(GC_BOOL, 4), VALS(1, 0, 1, 0));
    int x = tg_input(&t, "x", TY(dt, 4), VALS(1, 2, 3, 4));
    int y = tg_input(&t, "y", TY(dt, 4), VALS(10, 20, 30, 40));
    expect_node(&t, OP(&t, GC_OP_WHERE, NULL, NULL, c, x, y), TN(dt, "[4]"), VALS(1, 20, 3, 40), 0);
    tg_free(&t);
  }
  tg t;
  tg_init(&t);
  int i = tg_input(&t, "i", TY(GC_I64, 3), VALS(-1, 5, 7));
  int j = tg_input(&t, "j", TY(GC_I64, 3), VALS(-1, 4, 8));
  expect_node(&t, OP(&t, GC_OP_LT, NULL, NULL, i, j), "bool[3]", VALS(0, 0, 1), 0);
  int p = tg_input(&t, "p", TY(GC_BOOL, 3), VALS(1, 0, 1));
  int q = tg_input(&t, "q", TY(GC_BOOL, 3), VALS(1, 1, 0));
  expect_node(&t, OP(&t, GC_OP_EQ, NULL, NULL, p, q), "bool[3]", VALS(1, 0, 0), 0);
  expect_node(&t, OP(&t, GC_OP_WHERE, NULL, NULL, p, i, j), "i64[3]", VALS(-1, 4, 7), 0);
  tg_free(&t);
}

/* cast x to `to`, checking the values */
static void expect_cast(gc_type from, const double *vals, gc_dtype to, const char *type,
                        const double *want) {
  tg t;
  tg_init(&t);
  int x = tg_input(&t, "x", from, vals);
  gc_type ty = from;
  ty.dtype = to;
  expect_node(&t, OP(&t, GC_OP_CAST, NULL, &ty, x), type, want, 0);
  tg_free(&t);
}

static void test_cast(void **state) {
  (void)state;
  /* float -> int truncates toward zero, saturates, NaN -> 0 */
  for (int d = 0; d < 2; d++) {
    gc_dtype dt = float_dtypes[d];
    expect_cast(TY(dt, 7), VALS(-2.75, -0.5, 0.5, 2.9, NAN, 1e10, -1e10), GC_I32, "i32[7]",
                VALS(-2, 0, 0, 2, 0, INT32_MAX, INT32_MIN));
    expect_cast(TY(dt, 4), VALS(0, -0.0, 0.25, -3), GC_BOOL, "bool[4]", VALS(0, 0, 1, 1));
    expect_cast(TY(GC_BOOL, 2), VALS(1, 0), dt, TN(dt, "[2]"), VALS(1, 0));
    expect_cast(TY(GC_I32, 3), VALS(-3, 7, 0), dt, TN(dt, "[3]"), VALS(-3, 7, 0));
    expect_cast(TY(GC_I64, 2), VALS(-5, 123), dt, TN(dt, "[2]"), VALS(-5, 123));
  }
  expect_cast(TY(GC_F32, 1), VALS(NAN), GC_BOOL, "bool[1]", VALS(1));
  /* i32 -> f32 rounds to the nearest float */
  expect_cast(TY(GC_I32, 1), VALS(16777217), GC_F32, "f32[1]", VALS(16777216));
  /* f64 -> f32 rounds; f32 -> f64 is exact */
  expect_cast(TY(GC_F64, 2), VALS(0.1, 1e300), GC_F32, "f32[2]", VALS(0.100000001490116119384765625, INFINITY));
  expect_cast(TY(GC_F32, 1), VALS(0.1), GC_F64, "f64[1]", VALS(0.100000001490116119384765625));
  /* int -> int wraps; int -> bool is x != 0 */
  expect_cast(TY(GC_I64, 2), VALS(4294967301.0, -1), GC_I32, "i32[2]", VALS(5, -1));
  expect_cast(TY(GC_I32, 3), VALS(0, -4, 9), GC_BOOL, "bool[3]", VALS(0, 1, 1));
  expect_cast(TY(GC_BOOL, 2), VALS(0, 1), GC_I64, "i64[2]", VALS(0, 1));

  /* f32 -> i64 saturates at the i64 range (checked on the raw values) */
  tg t;
  tg_init(&t);
  int x = tg_input(&t, "x", TY(GC_F32, 5), VALS(-2.75, 3.99, NAN, 1e30, -1e30));
  gc_type ty = TY(GC_I64, 5);
  gc_tensor *y = tg_eval(&t, OP(&t, GC_OP_CAST, NULL, &ty, x));
  int64_t want[5] = {-2, 3, 0, INT64_MAX, INT64_MIN};
  for (int i = 0; i < 5; i++) assert_true(((int64_t *)y->data)[i] == want[i]);
  gc_tensor_free(y);
  tg_free(&t);
}

static void test_const_and_iota(void **state) {
  (void)state;
  tg t;
  tg_init(&t);
  gc_type f = TY(GC_F32, 2, 2), i = TY(GC_I32, 3), b = TY(GC_BOOL, 2), l = TY(GC_I64, 2, 3),
          d = TY(GC_F64, 2, 3);
  gc_attrs half = {.value = {.value = 0.5}}, frac = {.value = {.value = -3.7}},
           two = {.value = {.value = 2}};
  expect_node(&t, tg_op_(&t, GC_OP_CONST, NULL, 0, &half, &f), "f32[2,2]", VALS(0.5, 0.5, 0.5, 0.5), 0);
  expect_node(&t, tg_op_(&t, GC_OP_CONST, NULL, 0, &frac, &i), "i32[3]", VALS(-3, -3, -3), 0);
  expect_node(&t, tg_op_(&t, GC_OP_CONST, NULL, 0, &two, &b), "bool[2]", VALS(1, 1), 0);
  gc_attrs ax1 = {.axis = {.axis = 1}}, ax0 = {.axis = {.axis = 0}};
  expect_node(&t, tg_op_(&t, GC_OP_IOTA, NULL, 0, &ax1, &l), "i64[2,3]", VALS(0, 1, 2, 0, 1, 2), 0);
  expect_node(&t, tg_op_(&t, GC_OP_IOTA, NULL, 0, &ax0, &d), "f64[2,3]", VALS(0, 0, 0, 1, 1, 1), 0);
  gc_type fd = TY(GC_F64, 2), fi = TY(GC_F32, 3, 2);
  expect_node(&t, tg_op_(&t, GC_OP_CONST, NULL, 0, &frac, &fd), "f64[2]", VALS(-3.7, -3.7), 0);
  expect_node(&t, tg_op_(&t, GC_OP_IOTA, NULL, 0, &ax0, &fi), "f32[3,2]", VALS(0, 0, 1, 1, 2, 2), 0);
  tg_free(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unary_float),    cmocka_unit_test(test_sigmoid_is_stable),
      cmocka_unit_test(test_binary_float),   cmocka_unit_test(test_int_arithmetic),
      cmocka_unit_test(test_compare_and_where), cmocka_unit_test(test_cast),
      cmocka_unit_test(test_const_and_iota),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
