/* Layout ops: broadcast, reshape, transpose, slice, pad, concat, and the
 * reductions (reduce_sum, reduce_max, argmax), in f32 and f64, on the backend
 * under test (tests/backend_param.h).
 * gc-test: every backend */
#include "tests/interp/interp_test.h"

#include <math.h>

static double *iota_vals(int n, double *buf) {
  for (int i = 0; i < n; i++) buf[i] = i;
  return buf;
}

static void test_broadcast(void **state) {
  (void)state;
  for (int d = 0; d < 2; d++) {
    gc_dtype dt = float_dtypes[d];
    tg t;
    tg_init(&t);
    gc_type t23 = TY(dt, 2, 3), t232 = TY(dt, 2, 3, 2), t2 = TY(dt, 2);
    int row = tg_input(&t, "row", TY(dt, 3), VALS(1, 2, 3));
    int col = tg_input(&t, "col", TY(dt, 2, 1), VALS(1, 2));
    int mid = tg_input(&t, "mid", TY(dt, 3, 1), VALS(1, 2, 3));
    int s = tg_input(&t, "s", TY0(dt), VALS(5));
    expect_node(&t, OP(&t, GC_OP_BROADCAST, NULL, &t23, row), TN(dt, "[2,3]"), VALS(1, 2, 3, 1, 2, 3), 0);
    expect_node(&t, OP(&t, GC_OP_BROADCAST, NULL, &t23, col), TN(dt, "[2,3]"), VALS(1, 1, 1, 2, 2, 2), 0);
    /* rank extension and a size-1 dim at once: out[i,j,k] = mid[j] */
    expect_node(&t, OP(&t, GC_OP_BROADCAST, NULL, &t232, mid), TN(dt, "[2,3,2]"),
                VALS(1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3), 0);
    expect_node(&t, OP(&t, GC_OP_BROADCAST, NULL, &t2, s), TN(dt, "[2]"), VALS(5, 5), 0);
    tg_free(&t);
  }
}

static void test_reshape(void **state) {
  (void)state;
  for (int d = 0; d < 2; d++) {
    gc_dtype dt = float_dtypes[d];
    tg t;
    tg_init(&t);
    gc_type t32 = TY(dt, 3, 2);
    int x = tg_input(&t, "x", TY(dt, 2, 3), VALS(1, 2, 3, 4, 5, 6));
    expect_node(&t, OP(&t, GC_OP_RESHAPE, NULL, &t32, x), TN(dt, "[3,2]"), VALS(1, 2, 3, 4, 5, 6), 0);
    tg_free(&t);
  }
}

/* x[i,j,k] = 100i + 10j + k, so each value spells its own index. */
static void test_transpose_all_perms(void **state) {
  (void)state;
  static const int64_t perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  const int64_t dims[3] = {2, 3, 4}, weight[3] = {100, 10, 1};
  double x[24];
  for (int i = 0; i < 24; i++) x[i] = 100 * (i / 12) + 10 * (i / 4 % 3) + i % 4;
  for (int d = 0; d < 2; d++) {
    gc_dtype dt = float_dtypes[d];
    for (int p = 0; p < 6; p++) {
      tg t;
      tg_init(&t);
      int in = tg_input(&t, "x", TY(dt, 2, 3, 4), x);
      gc_attrs a = {.perm = {.perm = {3, {perms[p][0], perms[p][1], perms[p][2]}}}};
      int y = OP(&t, GC_OP_TRANSPOSE, &a, NULL, in);
      int64_t od[3] = {dims[perms[p][0]], dims[perms[p][1]], dims[perms[p][2]]};
      double want[24];
      int n = 0;
      for (int u = 0; u < od[0]; u++)
        for (int v = 0; v < od[1]; v++)
          for (int w = 0; w < od[2]; w++)
            want[n++] = u * weight[perms[p][0]] + v * weight[perms[p][1]] + w * weight[perms[p][2]];
      char type[32];
      snprintf(type, sizeof type, "%s[%lld,%lld,%lld]", gc_dtype_name(dt), (long long)od[0],
               (long long)od[1], (long long)od[2]);
      expect_node(&t, y, type, want, 0);
      tg_free(&t);
    }
  }
}

/* x[i,j] = 10i + j on [4,5] */
static void test_slice_with_steps(void **state) {
  (void)state;
  double x[20];
  for (int i = 0; i < 20; i++) x[i] = 10 * (i / 5) + i % 5;
  for (int d = 0; d < 2; d++) {
    gc_dtype dt = float_dtypes[d];
    tg t;
    tg_init(&t);
    int in = tg_input(&t, "x", TY(dt, 4, 5), x);
    gc_attrs a = {.slice = {.start = {2, {1, 0}}, .stop = {2, {4, 5}}, .step = {2, {2, 2}}}};
    expect_node(&t, OP(&t, GC_OP_SLICE, &a, NULL, in), TN(dt, "[2,3]"), VALS(10, 12, 14, 30, 32, 34), 0);
    gc_attrs b = {.slice = {.start = {2, {0, 1}}, .stop = {2, {4, 5}}, .step = {2, {3, 3}}}};
    expect_node(&t, OP(&t, GC_OP_SLICE, &b, NULL, in), TN(dt, "[2,2]"), VALS(1, 4, 31, 34), 0);
    gc_attrs c = {.slice = {.start = {2, {2, 1}}, .stop = {2, {3, 3}}}};   /* step defaults to 1 */
    expect_node(&t, OP(&t, GC_OP_SLICE, &c, NULL, in), TN(dt, "[1,2]"), VALS(21, 22), 0);
    tg_free(&t);
  }
}

static void test_pad(void **state) {
  (void)state;
  for (int d = 0; d < 2; d++) {
    gc_dtype dt = float_dtypes[d];
    tg t;
    tg_init(&t);
    int x = tg_input(&t, "x", TY(dt, 2, 2), VALS(1, 2, 3, 4));
    gc_attrs a = {.pad = {.lo = {2, {1, 0}}, .hi = {2, {0, 2}}, .value = -1}};
    expect_node(&t, OP(&t, GC_OP_PAD, &a, NULL, x), TN(dt, "[3,4]"),
                VALS(-1, -1, -1, -1, 1, 2, -1, -1, 3, 4, -1, -1), 0);
    tg_free(&t);
  }
  tg t;
  tg_init(&t);
  int x = tg_input(&t, "x", TY(GC_I32, 2), VALS(7, 8));
  gc_attrs a = {.pad = {.lo = {1, {1}}, .hi = {1, {1}}}};   /* value defaults to 0 */
  expect_node(&t, OP(&t, GC_OP_PAD, &a, NULL, x), "i32[4]", VALS(0, 7, 8, 0), 0);
  tg_free(&t);
}

static void test_concat_three(void **state) {
  (void)state;
  for (int d = 0; d < 2; d++) {
    gc_dtype dt = float_dtypes[d];
    tg t;
    tg_init(&t);
    int a = tg_input(&t, "a", TY(dt, 2, 1), VALS(1, 2));
    int b = tg_input(&t, "b", TY(dt, 2, 2), VALS(3, 4, 5, 6));
    int c = tg_input(&t, "c", TY(dt, 2, 1), VALS(7, 8));
    gc_attrs ax1 = {.axis = {.axis = 1}};
    expect_node(&t, OP(&t, GC_OP_CONCAT, &ax1, NULL, a, b, c), TN(dt, "[2,4]"),
                VALS(1, 3, 4, 7, 2, 5, 6, 8), 0);
    int e = tg_input(&t, "e", TY(dt, 1, 2), VALS(9, 10));
    expect_node(&t, OP(&t, GC_OP_CONCAT, NULL, NULL, b, e, b), TN(dt, "[5,2]"),
                VALS(3, 4, 5, 6, 9, 10, 3, 4, 5, 6), 0);
    tg_free(&t);
  }
}

static gc_attrs reduce_attrs(int n, const int64_t *axes, bool keepdims) {
  gc_attrs a;
  memset(&a, 0, sizeof a);
  a.reduce.axes.n = n;
  for (int i = 0; i < n; i++) a.reduce.axes.v[i] = axes[i];
  a.reduce.keepdims = keepdims;
  return a;
}

/* x[i,j,k] = 6i + 2j + k on [2,3,2] (the values 0..11) */
static void test_reduce(void **state) {
  (void)state;
  double x[12];
  iota_vals(12, x);
  for (int d = 0; d < 2; d++) {
    gc_dtype dt = float_dtypes[d];
    tg t;
    tg_init(&t);
    int in = tg_input(&t, "x", TY(dt, 2, 3, 2), x);
    gc_attrs a02k = reduce_attrs(2, (int64_t[]){0, 2}, true), a02 = reduce_attrs(2, (int64_t[]){0, 2}, false);
    gc_attrs a1 = reduce_attrs(1, (int64_t[]){1}, false), all = reduce_attrs(3, (int64_t[]){0, 1, 2}, false);
    gc_attrs a2k = reduce_attrs(1, (int64_t[]){2}, true);
    /* sum over i,k of 6i+2j+k = 14 + 8j; max = 7 + 2j */
    expect_node(&t, OP(&t, GC_OP_REDUCE_SUM, &a02k, NULL, in), TN(dt, "[1,3,1]"), VALS(14, 22, 30), 0);
    expect_node(&t, OP(&t, GC_OP_REDUCE_SUM, &a02, NULL, in), TN(dt, "[3]"), VALS(14, 22, 30), 0);
    /* sum over j = 18i + 6 + 3k */
    expect_node(&t, OP(&t, GC_OP_REDUCE_SUM, &a1, NULL, in), TN(dt, "[2,2]"), VALS(6, 9, 24, 27), 0);
    expect_node(&t, OP(&t, GC_OP_REDUCE_SUM, &all, NULL, in), TN(dt, "[]"), VALS(66), 0);
    expect_node(&t, OP(&t, GC_OP_REDUCE_MAX, &a02k, NULL, in), TN(dt, "[1,3,1]"), VALS(7, 9, 11), 0);
    expect_node(&t, OP(&t, GC_OP_REDUCE_MAX, &a02, NULL, in), TN(dt, "[3]"), VALS(7, 9, 11), 0);
    expect_node(&t, OP(&t, GC_OP_REDUCE_MAX, &a2k, NULL, in), TN(dt, "[2,3,1]"), VALS(1, 3, 5, 7, 9, 11), 0);
    /* NaN propagates; an empty extent gives -inf (max) and 0 (sum) */
    int nan = tg_input(&t, "n", TY(dt, 2, 2), VALS(1, NAN, 3, 4));
    gc_attrs r1 = reduce_attrs(1, (int64_t[]){1}, false), r0 = reduce_attrs(1, (int64_t[]){0}, false);
    expect_node(&t, OP(&t, GC_OP_REDUCE_MAX, &r1, NULL, nan), TN(dt, "[2]"), VALS(NAN, 4), 0);
    int empty = tg_input(&t, "e", TY(dt, 0, 2), NULL);
    expect_node(&t, OP(&t, GC_OP_REDUCE_MAX, &r0, NULL, empty), TN(dt, "[2]"), VALS(-INFINITY, -INFINITY), 0);
    expect_node(&t, OP(&t, GC_OP_REDUCE_SUM, &r0, NULL, empty), TN(dt, "[2]"), VALS(0, 0), 0);
    tg_free(&t);
  }
  tg t;
  tg_init(&t);
  int in = tg_input(&t, "x", TY(GC_I32, 2, 2), VALS(-5, 3, 2, -7));
  int empty = tg_input(&t, "e", TY(GC_I32, 2, 0), NULL);
  gc_attrs r1 = reduce_attrs(1, (int64_t[]){1}, false);
  expect_node(&t, OP(&t, GC_OP_REDUCE_SUM, &r1, NULL, in), "i32[2]", VALS(-2, -5), 0);
  expect_node(&t, OP(&t, GC_OP_REDUCE_MAX, &r1, NULL, in), "i32[2]", VALS(3, 2), 0);
  expect_node(&t, OP(&t, GC_OP_REDUCE_MAX, &r1, NULL, empty), "i32[2]", VALS(INT32_MIN, INT32_MIN), 0);
  tg_free(&t);
}

static void test_argmax(void **state) {
  (void)state;
  for (int d = 0; d < 2; d++) {
    gc_dtype dt = float_dtypes[d];
    tg t;
    tg_init(&t);
    int x = tg_input(&t, "x", TY(dt, 2, 4), VALS(1, 3, 3, 2, 1, 5, 0, 2));
    gc_attrs a1 = {.argmax = {.axis = 1}}, a1k = {.argmax = {.axis = 1, .keepdims = true}};
    gc_attrs a0 = {.argmax = {.axis = 0}};
    /* ties: the first maximal index wins */
    expect_node(&t, OP(&t, GC_OP_ARGMAX, &a1, NULL, x), "i64[2]", VALS(1, 1), 0);
    expect_node(&t, OP(&t, GC_OP_ARGMAX, &a1k, NULL, x), "i64[2,1]", VALS(1, 1), 0);
    expect_node(&t, OP(&t, GC_OP_ARGMAX, &a0, NULL, x), "i64[4]", VALS(0, 1, 0, 0), 0);
    /* a NaN counts as maximal; the first NaN wins */
    int n = tg_input(&t, "n", TY(dt, 5), VALS(1, 9, NAN, 3, NAN));
    expect_node(&t, OP(&t, GC_OP_ARGMAX, NULL, NULL, n), "i64[]", VALS(2), 0);
    tg_free(&t);
  }
  tg t;
  tg_init(&t);
  int x = tg_input(&t, "x", TY(GC_I64, 5), VALS(-4, 7, 7, -1, 7));
  expect_node(&t, OP(&t, GC_OP_ARGMAX, NULL, NULL, x), "i64[]", VALS(1), 0);
  tg_free(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_broadcast),        cmocka_unit_test(test_reshape),
      cmocka_unit_test(test_transpose_all_perms), cmocka_unit_test(test_slice_with_steps),
      cmocka_unit_test(test_pad),              cmocka_unit_test(test_concat_three),
      cmocka_unit_test(test_reduce),           cmocka_unit_test(test_argmax),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
