/* dtypes, types, the op table and the shape rules. */
#include "tests/testutil.h"
#include "ir/ir.h"

#include <string.h>

static void test_numel_overflow(void **state) {
  (void)state;
  int64_t n;
  gc_type t = gc_type_make(GC_F32, 2, (int64_t[]){4, 8});
  assert_true(gc_type_numel(&t, &n));
  assert_int_equal(n, 32);
  gc_type big = gc_type_make(GC_F32, 3, (int64_t[]){INT64_C(1) << 31, INT64_C(1) << 31, 4});
  assert_false(gc_type_numel(&big, &n));
  gc_type neg = gc_type_make(GC_F32, 1, (int64_t[]){-1});
  assert_false(gc_type_numel(&neg, &n));
  gc_type scalar = gc_type_make(GC_I64, 0, NULL);
  assert_true(gc_type_numel(&scalar, &n));
  assert_int_equal(n, 1);
}

static void test_type_str(void **state) {
  (void)state;
  char b[GC_TYPE_STR_MAX];
  gc_type t = gc_type_make(GC_BOOL, 3, (int64_t[]){1, 2, 3});
  assert_string_equal(gc_type_str(&t, b, sizeof b), "bool[1,2,3]");
  gc_type s = gc_type_make(GC_F64, 0, NULL);
  assert_string_equal(gc_type_str(&s, b, sizeof b), "f64[]");
}

static void test_op_table(void **state) {
  (void)state;
  assert_int_equal(gc_op_parse("scatter_add", 11), GC_OP_SCATTER_ADD);
  assert_int_equal(gc_op_parse("nope", 4), -1);
  assert_string_equal(gc_op_name(GC_OP_DOT), "dot");
  assert_int_equal(gc_op_info_of(GC_OP_CONCAT)->arity, -1);
  gc_attrs a;
  gc_attrs_defaults(GC_OP_DOT, &a);
  assert_false(a.dot.transpose_a);
}

static void test_rules(void **state) {
  (void)state;
  gc_diag d;
  gc_graph *g = gc_graph_new("t");
  gc_attrs pa = {.name = {.name = "a"}}, pb = {.name = {.name = "b"}};
  gc_type ta = gc_type_make(GC_F32, 3, (int64_t[]){2, 4, 8});
  gc_type tb = gc_type_make(GC_F32, 2, (int64_t[]){16, 8});
  int a = gc_graph_add(g, GC_OP_PARAM, NULL, 0, &pa, &ta, &d);
  int b = gc_graph_add(g, GC_OP_PARAM, NULL, 0, &pb, &tb, &d);
  assert_true(a >= 0 && b >= 0);
  gc_attrs da = {.dot = {.transpose_b = true}};
  int y = gc_graph_add(g, GC_OP_DOT, (int[]){a, b}, 2, &da, NULL, &d);
  assert_true(y >= 0);
  char buf[GC_TYPE_STR_MAX];
  assert_string_equal(gc_type_str(&g->nodes[y]->type, buf, sizeof buf), "f32[2,4,16]");
  /* mismatched contraction */
  assert_int_equal(gc_graph_add(g, GC_OP_DOT, (int[]){a, b}, 2, NULL, NULL, &d), -1);
  assert_non_null(strstr(d.msg, "contraction"));
  /* a declared type that does not follow names everything */
  gc_type wrong = gc_type_make(GC_F32, 3, (int64_t[]){2, 4, 15});
  assert_int_equal(gc_graph_add(g, GC_OP_DOT, (int[]){a, b}, 2, &da, &wrong, &d), -1);
  assert_non_null(strstr(d.msg, "f32[2,4,8]"));
  assert_non_null(strstr(d.msg, "expected f32[2,4,16]"));
  assert_int_equal(gc_verify(g, &d), 0);
  gc_graph_free(g);
}

/* Structural hashes: equal for equal structure (labels and node positions
 * aside), different when an op, attribute, type or operand differs. */
static void test_structural_hash(void **state) {
  (void)state;
  gc_diag d;
  gc_graph *g = gc_graph_new("h");
  gc_attrs px = {.name = {.name = "x"}};
  gc_type t = gc_type_make(GC_F32, 2, (int64_t[]){3, 4});
  int x = gc_graph_add(g, GC_OP_INPUT, NULL, 0, &px, &t, &d);
  int e1 = gc_graph_add(g, GC_OP_EXP, (int[]){x}, 1, NULL, NULL, &d);
  int e2 = gc_graph_add(g, GC_OP_EXP, (int[]){x}, 1, NULL, NULL, &d);
  gc_graph_set_label(g, e2, "another label");
  int t1 = gc_graph_add(g, GC_OP_TANH, (int[]){x}, 1, NULL, NULL, &d);
  gc_attrs r0 = {.reduce = {.axes = {1, {0}}}}, r1 = {.reduce = {.axes = {1, {1}}}};
  int s0 = gc_graph_add(g, GC_OP_REDUCE_SUM, (int[]){e1}, 1, &r0, NULL, &d);
  int s0b = gc_graph_add(g, GC_OP_REDUCE_SUM, (int[]){e2}, 1, &r0, NULL, &d);
  int s1 = gc_graph_add(g, GC_OP_REDUCE_SUM, (int[]){e1}, 1, &r1, NULL, &d);
  int st = gc_graph_add(g, GC_OP_REDUCE_SUM, (int[]){t1}, 1, &r0, NULL, &d);
  uint64_t h[16];
  gc_hash_nodes(g, h);
  assert_true(h[e1] == h[e2]);    /* same op and operand, label ignored */
  assert_true(h[s0] == h[s0b]);   /* equal through equal operands */
  assert_true(h[e1] != h[t1]);    /* op */
  assert_true(h[s0] != h[s1]);    /* attribute */
  assert_true(h[s0] != h[st]);    /* operand */
  gc_type t2 = gc_type_make(GC_F32, 2, (int64_t[]){4, 3});
  gc_attrs py = {.name = {.name = "y"}};
  int y = gc_graph_add(g, GC_OP_INPUT, NULL, 0, &py, &t2, &d), x2 = gc_graph_add(g, GC_OP_INPUT, NULL, 0, &px, &t2, &d);
  gc_hash_nodes(g, h);
  assert_true(h[y] != h[x2]);     /* name */
  assert_true(h[x] != h[x2]);     /* type */
  uint64_t whole = gc_hash_graph(g);
  gc_graph_set_label(g, s1, "relabelled");
  assert_true(gc_hash_graph(g) == whole);
  gc_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_numel_overflow),
      cmocka_unit_test(test_type_str),
      cmocka_unit_test(test_op_table),
      cmocka_unit_test(test_rules),
      cmocka_unit_test(test_structural_hash),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
