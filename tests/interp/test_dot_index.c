/* dot (transpose flags, batch broadcasting), gather and scatter_add (i32/i64
 * indices, negative indices, range errors), on the backend under test
 * (tests/backend_param.h).
 * gc-test: every backend */
#include "tests/interp/interp_test.h"

/* A = [[1,2,3],[4,5,6]], B = [[7,8],[9,10],[11,12]], A.B = [[58,64],[139,154]] */
#define A_VALS 1, 2, 3, 4, 5, 6
#define AT_VALS 1, 4, 2, 5, 3, 6
#define B_VALS 7, 8, 9, 10, 11, 12
#define BT_VALS 7, 9, 11, 8, 10, 12
static const double AB[4] = {58, 64, 139, 154};

static gc_attrs dot_attrs(bool ta, bool tb) {
  gc_attrs a;
  memset(&a, 0, sizeof a);
  a.dot.transpose_a = ta;
  a.dot.transpose_b = tb;
  return a;
}

static void test_dot_transpose_flags(void **state) {
  (void)state;
  for (int d = 0; d < 2; d++) {
    gc_dtype dt = float_dtypes[d];
    tg t;
    tg_init(&t);
    int a = tg_input(&t, "a", TY(dt, 2, 3), VALS(A_VALS));
    int at = tg_input(&t, "at", TY(dt, 3, 2), VALS(AT_VALS));
    int b = tg_input(&t, "b", TY(dt, 3, 2), VALS(B_VALS));
    int bt = tg_input(&t, "bt", TY(dt, 2, 3), VALS(BT_VALS));
    for (int f = 0; f < 4; f++) {
      bool ta = f & 1, tb = f & 2;
      gc_attrs attrs = dot_attrs(ta, tb);
      int y = OP(&t, GC_OP_DOT, &attrs, NULL, ta ? at : a, tb ? bt : b);
      expect_node(&t, y, TN(dt, "[2,2]"), AB, 0);
    }
    tg_free(&t);
  }
}

static void test_dot_batch_broadcast(void **state) {
  (void)state;
  for (int d = 0; d < 2; d++) {
    gc_dtype dt = float_dtypes[d];
    tg t;
    tg_init(&t);
    /* batched a [2,2,3] = (A, -A) against an unbatched b */
    int a2 = tg_input(&t, "a2", TY(dt, 2, 2, 3), VALS(A_VALS, -1, -2, -3, -4, -5, -6));
    int b = tg_input(&t, "b", TY(dt, 3, 2), VALS(B_VALS));
    expect_node(&t, OP(&t, GC_OP_DOT, NULL, NULL, a2, b), TN(dt, "[2,2,2]"),
                VALS(58, 64, 139, 154, -58, -64, -139, -154), 0);
    /* a size-1 batch dim [1,2,3] against b [2,3,2] = (B, 2B), with b transposed */
    int a1 = tg_input(&t, "a1", TY(dt, 1, 2, 3), VALS(A_VALS));
    int bt2 = tg_input(&t, "bt2", TY(dt, 2, 2, 3), VALS(BT_VALS, 14, 18, 22, 16, 20, 24));
    gc_attrs tb = dot_attrs(false, true);
    expect_node(&t, OP(&t, GC_OP_DOT, &tb, NULL, a1, bt2), TN(dt, "[2,2,2]"),
                VALS(58, 64, 139, 154, 116, 128, 278, 308), 0);
    /* an unbatched a against b [2,3,2] */
    int b2 = tg_input(&t, "b2", TY(dt, 2, 3, 2), VALS(B_VALS, 14, 16, 18, 20, 22, 24));
    int a = tg_input(&t, "a", TY(dt, 2, 3), VALS(A_VALS));
    expect_node(&t, OP(&t, GC_OP_DOT, NULL, NULL, a, b2), TN(dt, "[2,2,2]"),
                VALS(58, 64, 139, 154, 116, 128, 278, 308), 0);
    /* both batched, broadcasting on different axes: a [2,1,2,3] = (A, -A),
     * b [3,3,2] = (B, 2B, 0B): out[p,q] = sign[p] * scale[q] * AB */
    int a4 = tg_input(&t, "a4", TY(dt, 2, 1, 2, 3), VALS(A_VALS, -1, -2, -3, -4, -5, -6));
    int b3 = tg_input(&t, "b3", TY(dt, 3, 3, 2),
                      VALS(B_VALS, 14, 16, 18, 20, 22, 24, 0, 0, 0, 0, 0, 0));
    double want[24];
    const double sign[2] = {1, -1}, scale[3] = {1, 2, 0};
    for (int p = 0; p < 2; p++)
      for (int q = 0; q < 3; q++)
        for (int e = 0; e < 4; e++) want[(p * 3 + q) * 4 + e] = sign[p] * scale[q] * AB[e];
    expect_node(&t, OP(&t, GC_OP_DOT, NULL, NULL, a4, b3), TN(dt, "[2,3,2,2]"), want, 0);
    tg_free(&t);
  }
}

static void test_gather(void **state) {
  (void)state;
  for (int d = 0; d < 2; d++) {
    gc_dtype dt = float_dtypes[d];
    tg t;
    tg_init(&t);
    int tab = tg_input(&t, "t", TY(dt, 3, 2), VALS(1, 2, 3, 4, 5, 6));
    int i32 = tg_input(&t, "i", TY(GC_I32, 2, 2), VALS(2, 0, -1, 1));
    expect_node(&t, OP(&t, GC_OP_GATHER, NULL, NULL, tab, i32), TN(dt, "[2,2,2]"),
                VALS(5, 6, 1, 2, 5, 6, 3, 4), 0);
    int s = tg_input(&t, "s", TY0(GC_I64), VALS(1));
    expect_node(&t, OP(&t, GC_OP_GATHER, NULL, NULL, tab, s), TN(dt, "[2]"), VALS(3, 4), 0);
    int tab2 = tg_input(&t, "t2", TY(dt, 2, 3), VALS(1, 2, 3, 4, 5, 6));
    int i64 = tg_input(&t, "j", TY(GC_I64, 2), VALS(2, -3));
    gc_attrs ax1 = {.axis = {.axis = 1}};
    expect_node(&t, OP(&t, GC_OP_GATHER, &ax1, NULL, tab2, i64), TN(dt, "[2,2]"), VALS(3, 1, 6, 4), 0);
    tg_free(&t);
  }
}

/* Fails unless `msg` contains `part`. */
static void expect_in(const char *msg, const char *part) {
  if (!strstr(msg, part)) fail_msg("\"%s\" is not in the message \"%s\" (on %s)", part, msg, gc_test_backend());
}

/* gather with one bad index: an error (never a wild read) naming the node,
 * its label, the index and the axis' size; the interpreter also names the
 * element and the valid range. */
static void expect_gather_error(double bad, const char *index_text) {
  tg t;
  tg_init(&t);
  int tab = tg_input(&t, "t", TY(GC_F32, 3, 2), VALS(1, 2, 3, 4, 5, 6));
  int idx = tg_input(&t, "i", TY(GC_I64, 3), VALS(0, bad, 1));
  int y = OP(&t, GC_OP_GATHER, NULL, NULL, tab, idx);
  gc_graph_set_label(t.g, y, "embed.lookup");
  gc_tensor *value = NULL;
  assert_int_equal(tg_try_eval(&t, y, &value), -1);
  assert_null(value);
  expect_in(t.d.msg, "gather %");
  expect_in(t.d.msg, "embed.lookup");
  expect_in(t.d.msg, index_text);
  expect_in(t.d.msg, "of size 3");
  if (gc_test_on_interp()) {
    expect_in(t.d.msg, "gather %2");
    expect_in(t.d.msg, "[-3, 2]");
  }
  tg_free(&t);
}

static void test_gather_out_of_range(void **state) {
  (void)state;
  expect_gather_error(3, "index 3 ");
  expect_gather_error(-4, "index -4 ");
  expect_gather_error(1e12, "index 1000000000000 ");
}

static void test_scatter_add(void **state) {
  (void)state;
  for (int d = 0; d < 2; d++) {
    gc_dtype dt = float_dtypes[d];
    tg t;
    tg_init(&t);
    /* repeated indices accumulate; -1 is the last row */
    int idx = tg_input(&t, "i", TY(GC_I64, 4), VALS(0, 2, 0, -1));
    int src = tg_input(&t, "s", TY(dt, 4, 2), VALS(1, 2, 3, 4, 5, 6, 7, 8));
    gc_type t32 = TY(dt, 3, 2);
    expect_node(&t, OP(&t, GC_OP_SCATTER_ADD, NULL, &t32, idx, src), TN(dt, "[3,2]"),
                VALS(6, 8, 0, 0, 10, 12), 0);
    int idx1 = tg_input(&t, "j", TY(GC_I32, 3), VALS(1, 1, 0));
    int src1 = tg_input(&t, "r", TY(dt, 2, 3), VALS(1, 2, 3, 4, 5, 6));
    gc_type t22 = TY(dt, 2, 2);
    gc_attrs ax1 = {.axis = {.axis = 1}};
    expect_node(&t, OP(&t, GC_OP_SCATTER_ADD, &ax1, &t22, idx1, src1), TN(dt, "[2,2]"),
                VALS(3, 3, 6, 9), 0);
    tg_free(&t);
  }
  tg t;
  tg_init(&t);
  int idx = tg_input(&t, "i", TY(GC_I32, 3), VALS(1, 1, 5));
  int src = tg_input(&t, "s", TY(GC_I32, 3), VALS(10, 20, 30));
  gc_type t2 = TY(GC_I32, 2);
  int y = OP(&t, GC_OP_SCATTER_ADD, NULL, &t2, idx, src);
  gc_tensor *value = NULL;
  assert_int_equal(tg_try_eval(&t, y, &value), -1);
  assert_null(value);
  expect_in(t.d.msg, "scatter_add %");
  expect_in(t.d.msg, "index 5 ");
  expect_in(t.d.msg, "of size 2");
  if (gc_test_on_interp()) {
    expect_in(t.d.msg, "scatter_add %2");
    expect_in(t.d.msg, "[-2, 1]");
  }
  tg_free(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dot_transpose_flags), cmocka_unit_test(test_dot_batch_broadcast),
      cmocka_unit_test(test_gather),              cmocka_unit_test(test_gather_out_of_range),
      cmocka_unit_test(test_scatter_add),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
