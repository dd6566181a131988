/* The text-form printer: the all-ops file round-trips to a fixed point,
 * defaults are omitted, floats and strings read back exactly. */
#include "tests/testutil.h"
#include "ir/ir.h"

#include <stdlib.h>
#include <string.h>

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s", path);
  static char buf[1 << 16];
  *len = fread(buf, 1, sizeof buf, f);
  fclose(f);
  char *out = malloc(*len + 1);
  memcpy(out, buf, *len);
  out[*len] = 0;
  return out;
}

static gc_graph *parse_or_fail(const char *text, size_t len) {
  gc_diag d;
  gc_graph *g = gc_parse(text, len, &d);
  if (!g) fail_msg("%d:%d: %s", d.line, d.col, d.msg);
  return g;
}

static void assert_contains(const char *text, const char *want) {
  if (!strstr(text, want)) fail_msg("missing line:\n%s\nin:\n%s", want, text);
}

static void test_all_ops_round_trip(void **state) {
  (void)state;
  size_t len;
  char *text = read_file(GC_SOURCE_DIR "/tests/ir/files/all_ops.gcir", &len);
  gc_graph *g = parse_or_fail(text, len);
  gc_diag d;
  if (gc_verify(g, &d)) fail_msg("verify: %s", d.msg);

  /* every op of the table appears */
  bool seen[GC_OP_COUNT] = {false};
  for (int i = 0; i < g->n_nodes; i++) seen[g->nodes[i]->op] = true;
  for (int op = 0; op < GC_OP_COUNT; op++)
    if (!seen[op]) fail_msg("all_ops.gcir lacks op %s", gc_op_name((gc_op)op));

  assert_int_equal(g->n_nodes, 67);
  assert_int_equal(g->n_outputs, 3);
  assert_int_equal(g->n_updates, 2);
  char b[GC_TYPE_STR_MAX];
  int dot = gc_graph_find_output(g, "dot");
  assert_int_equal(dot, 53);
  assert_string_equal(gc_type_str(&g->nodes[dot]->type, b, sizeof b), "f32[2,5,4,6]");
  assert_true(g->nodes[dot]->attrs.dot.transpose_a && g->nodes[dot]->attrs.dot.transpose_b);
  assert_string_equal(g->nodes[dot]->label, "q.k");
  assert_string_equal(g->nodes[38]->label, "pick \"a\" or \\b");
  assert_string_equal(gc_type_str(&g->nodes[54]->type, b, sizeof b), "f32[2,2,3,4]"); /* gather axis 1 */
  assert_int_equal(g->nodes[54]->attrs.axis.axis, 1);
  assert_int_equal(g->nodes[42]->attrs.slice.step.v[2], 2);
  assert_true(isnan(g->nodes[9]->attrs.value.value));
  assert_true(isinf(g->nodes[8]->attrs.value.value) && g->nodes[8]->attrs.value.value < 0);
  assert_int_equal(g->nodes[44]->n_in, 3);

  char *p1 = gc_print(g);
  assert_non_null(p1);
  static const char *const lines[] = {
      "graph @all_ops {\n  %0 = input \"x\" : f32[2,3,4]\n",
      "  %2 = param \"w\" {label=\"weights\"} : f32[4,5]\n",
      "  %6 = const 1 : i64[]\n",
      "  %7 = const -9.9999999999999995e-07 : f64[3]\n",
      "  %8 = const -inf : f32[2]\n",
      "  %9 = const nan : f32[2]\n",
      "  %10 = const 0.10000000000000001 : f64[]\n",
      "  %11 = iota {axis=2} : i32[2,3,4]\n",
      "  %12 = rand_uniform %4 {seed=7} : f32[2,3,4]\n",
      "  %38 = where %36, %33, %0 {label=\"pick \\\"a\\\" or \\\\b\"} : f32[2,3,4]\n",
      "  %41 = transpose %0 {perm=[2,0,1]} : f32[4,2,3]\n",
      "  %42 = slice %0 {start=[0,1,0], stop=[2,3,4], step=[1,1,2]} : f32[2,2,2]\n",
      "  %43 = slice %0 {start=[1,0,0], stop=[2,3,4]} : f32[1,3,4]\n",
      "  %44 = concat %0, %5, %13 {axis=1} : f32[2,9,4]\n",
      "  %45 = pad %0 {lo=[0,1,2], hi=[1,0,0], value=-1.5} : f32[3,4,6]\n",
      "  %46 = pad %25 {lo=[0,0,1], hi=[0,0,1]} : f64[2,3,6]\n",
      "  %47 = reduce_sum %0 {axes=[0,2], keepdims=true} : f32[1,3,1]\n",
      "  %48 = reduce_max %0 {axes=[1]} : f32[2,4]\n",
      "  %49 = argmax %0 {axis=2, keepdims=true} : i64[2,3,1]\n",
      "  %50 = reduce_sum %38 {axes=[0,1,2]} : f32[]\n",
      "  %52 = dot %0, %2 : f32[2,3,5]\n",
      "  %53 = dot %40, %3 {transpose_a=true, transpose_b=true, label=\"q.k\"} : f32[2,5,4,6]\n",
      "  %55 = gather %2, %26 : f32[2,3,5]\n",
      "  %56 = scatter_add %1, %54 {axis=1} : f32[2,3,4]\n",
      "  %58 = sub %2, %2 : f32[4,5]\n"
      "  %59 = stop_gradient %0 : f32[2,3,4]\n"
      "  %60 = call @erff(%0) {elementwise=true} : f32[2,3,4]\n"
      "  %61 = call @my_kernel(%0, %2) {effects=true, alpha=0.5, k=3, label=\"user\"} : f32[7]\n"
      "  %62 = call @tick() {effects=true} : i64[]\n"
      "  %63 = all_reduce %0 : f32[2,3,4]\n"
      "  %64 = all_reduce %0 {mean=true} : f32[2,3,4]\n"
      "  %65 = reduce_scatter %0 : f32[1,3,4]\n"
      "  %66 = all_gather %0 : f32[4,3,4]\n"
      "  output \"loss\" = %50\n"
      "  output \"dot\" = %53\n"
      "  output \"same\" = %50\n"
      "  update \"step\" = %57\n"
      "  update \"w\" = %58\n"
      "}\n",
  };
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) assert_contains(p1, lines[i]);

  /* print(parse(print(g))) == print(g), and the structure is the same */
  gc_graph *g2 = parse_or_fail(p1, strlen(p1));
  char *p2 = gc_print(g2);
  assert_string_equal(p1, p2);
  assert_true(gc_hash_graph(g) == gc_hash_graph(g2));
  free(p1);
  free(p2);
  gc_graph_free(g2);
  gc_graph_free(g);
  free(text);
}

/* (graph.c passes `in` to memcpy even when n_in is 0, so not NULL here) */
static const int no_operands[1] = {0};

static uint64_t bits_of(double v) {
  uint64_t u;
  memcpy(&u, &v, sizeof u);
  return u;
}

static void test_floats_read_back_exactly(void **state) {
  (void)state;
  static const double values[] = {0.1, -0.0, 1e-300, 4.9406564584124654e-324, 1.7976931348623157e308,
                                  -2.5, 1.0 / 3.0, 123456789012345678.0, 3.0, INFINITY, -INFINITY};
  enum { N = sizeof values / sizeof values[0] };
  gc_graph *g = gc_graph_new("floats");
  gc_diag d;
  gc_type t = gc_type_make(GC_F64, 1, (int64_t[]){2});
  for (int i = 0; i < N; i++) {
    gc_attrs a = {.value = {.value = values[i]}};
    assert_int_equal(gc_graph_add(g, GC_OP_CONST, no_operands, 0, &a, &t, &d), 2 * i);
    gc_attrs pa;
    gc_attrs_defaults(GC_OP_PAD, &pa);
    pa.pad.lo = (gc_ilist){1, {1}};
    pa.pad.hi = (gc_ilist){1, {0}};
    pa.pad.value = values[i];
    gc_type pt = gc_type_make(GC_F64, 1, (int64_t[]){3});
    assert_int_equal(gc_graph_add(g, GC_OP_PAD, (int[]){2 * i}, 1, &pa, &pt, &d), 2 * i + 1);
  }
  char *p = gc_print(g);
  gc_graph *g2 = parse_or_fail(p, strlen(p));
  assert_int_equal(g2->n_nodes, 2 * N);
  for (int i = 0; i < N; i++) {
    assert_true(bits_of(g2->nodes[2 * i]->attrs.value.value) == bits_of(values[i]));
    assert_true(bits_of(g2->nodes[2 * i + 1]->attrs.pad.value) == bits_of(values[i]));
  }
  /* -0.0 is not the default 0.0 for pad, so it is written */
  assert_contains(p, "  %3 = pad %2 {lo=[1], hi=[0], value=-0} : f64[3]\n");
  assert_contains(p, "  %0 = const 0.10000000000000001 : f64[2]\n");
  free(p);
  gc_graph_free(g2);
  gc_graph_free(g);
}

static void test_builder_graph(void **state) {
  (void)state;
  /* A graph made with the C API: a name that is not a token, a label with
   * control characters, step given as all ones. */
  gc_graph *g = gc_graph_new("my model/v2");
  gc_diag d;
  gc_attrs in = {.name = {.name = "tok\"en"}};
  gc_type t = gc_type_make(GC_I64, 2, (int64_t[]){2, 6});
  int x = gc_graph_add(g, GC_OP_INPUT, no_operands, 0, &in, &t, &d);
  gc_attrs s;
  gc_attrs_defaults(GC_OP_SLICE, &s);
  s.slice.start = (gc_ilist){2, {0, 1}};
  s.slice.stop = (gc_ilist){2, {2, 5}};
  s.slice.step = (gc_ilist){2, {1, 1}};
  int y = gc_graph_add(g, GC_OP_SLICE, &x, 1, &s, NULL, &d);
  assert_int_equal(y, 1);
  gc_graph_set_label(g, y, "line1\nline2\t\x02");
  assert_int_equal(gc_graph_add_output(g, "out", y, &d), 0);
  char *p = gc_print(g);
  assert_string_equal(p,
                      "graph @my_model_v2 {\n"
                      "  %0 = input \"tok\\\"en\" : i64[2,6]\n"
                      "  %1 = slice %0 {start=[0,1], stop=[2,5], label=\"line1\\nline2\\t\\x02\"} : i64[2,4]\n"
                      "  output \"out\" = %1\n"
                      "}\n");
  gc_graph *g2 = parse_or_fail(p, strlen(p));
  assert_string_equal(g2->nodes[1]->label, "line1\nline2\t\x02");
  assert_string_equal(g2->nodes[0]->attrs.name.name, "tok\"en");
  free(p);
  gc_graph_free(g2);
  gc_graph_free(g);
}

/* The plan's attributes print and parse back: offset=, into= and over=
 * (a value named by its number once printed), before the label. */
static void test_plan_attributes_round_trip(void **state) {
  (void)state;
  const char *text =
      "graph @p {\n"
      "  %w = param \"w\" : f32[4]\n"
      "  %x = input \"x\" : f32[4]\n"
      "  kernel @a(%x) -> (%b) {\n"
      "    %b = exp %x {offset=64} : f32[4]\n"
      "  }\n"
      "  kernel @b(%b) -> (%c) {\n"
      "    %c = neg %b {offset=64, over=%b, label=\"in place\"} : f32[4]\n"
      "  }\n"
      "  kernel @c(%w, %c) -> (%v) {\n"
      "    %v = add %w, %c {into=\"w\"} : f32[4]\n"
      "  }\n"
      "  output \"c\" = %c\n"
      "  update \"w\" = %v\n"
      "}\n";
  gc_graph *g = parse_or_fail(text, strlen(text));
  assert_int_equal(gc_node_over(g->nodes[3]), 2);
  assert_int_equal(gc_node_over(g->nodes[2]), -1);
  assert_int_equal(g->nodes[3]->offset, 64);
  char *p = gc_print(g);
  assert_contains(p, "    %3 = neg %2 {offset=64, over=%2, label=\"in place\"} : f32[4]\n");
  assert_contains(p, "    %4 = add %0, %3 {into=\"w\"} : f32[4]\n");
  gc_graph *g2 = parse_or_fail(p, strlen(p));
  char *p2 = gc_print(g2);
  assert_string_equal(p, p2);
  assert_true(gc_graph_identical(g, g2));
  free(p), free(p2);
  gc_graph_free(g2);
  gc_graph_free(g);
}

static void test_empty_graph(void **state) {
  (void)state;
  gc_graph *g = parse_or_fail("graph @e {}", 11);
  char *p = gc_print(g);
  assert_string_equal(p, "graph @e {\n}\n");
  free(p);
  gc_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_all_ops_round_trip),
      cmocka_unit_test(test_floats_read_back_exactly),
      cmocka_unit_test(test_builder_graph),
      cmocka_unit_test(test_empty_graph),
      cmocka_unit_test(test_plan_attributes_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
