/* Use lists and liveness (ir/uses.h): readers, counts, bindings and last
 * uses on a small graph, agreement with a direct count on the all-ops file,
 * and refusal of a graph whose operands point forward. */
#include "tests/testutil.h"
#include "ir/ir.h"
#include "ir/uses.h"

#include <stdlib.h>
#include <string.h>

static gc_graph *parse_or_fail(const char *text) {
  gc_diag d;
  gc_graph *g = gc_parse(text, strlen(text), &d);
  if (!g) fail_msg("%d:%d: %s", d.line, d.col, d.msg);
  return g;
}

static const char *const small =
    "graph @u {\n"
    "  %x = input \"x\" : f32[4]\n"       /* %0 */
    "  %w = param \"w\" : f32[4]\n"       /* %1 */
    "  %sq = mul %x, %x : f32[4]\n"       /* %2: reads x twice */
    "  %y = add %sq, %w : f32[4]\n"       /* %3 */
    "  %dead = neg %y : f32[4]\n"         /* %4: nothing reads or binds it */
    "  %w2 = exp %sq : f32[4]\n"          /* %5 */
    "  %c = const 2 : f32[]\n"            /* %6: unused too */
    "  output \"y\" = %y\n"
    "  output \"again\" = %y\n"
    "  update \"w\" = %w2\n"
    "}\n";

static void assert_readers(const gc_uses *u, int id, int n, const int *want) {
  if (gc_uses_count(u, id) != n) fail_msg("node %d: %d readers, expected %d", id, gc_uses_count(u, id), n);
  for (int i = 0; i < n; i++)
    if (gc_uses_readers(u, id)[i] != want[i])
      fail_msg("node %d: reader %d is %d, expected %d", id, i, gc_uses_readers(u, id)[i], want[i]);
}

static void test_small_graph(void **state) {
  (void)state;
  gc_graph *g = parse_or_fail(small);
  gc_uses u;
  gc_diag d;
  assert_int_equal(gc_uses_init(&u, g, &d), 0);
  assert_int_equal(u.n_nodes, 7);
  assert_int_equal(u.n_reads, 6); /* mul 2, add 2, neg 1, exp 1 */

  assert_readers(&u, 0, 2, (int[]){2, 2});
  assert_readers(&u, 1, 1, (int[]){3});
  assert_readers(&u, 2, 2, (int[]){3, 5});
  assert_readers(&u, 3, 1, (int[]){4});
  assert_readers(&u, 4, 0, NULL);
  assert_readers(&u, 5, 0, NULL);
  assert_readers(&u, 6, 0, NULL);

  int want_last[7] = {2, 3, 5, 7, 4, 7, 6};
  for (int i = 0; i < 7; i++)
    if (u.last_use[i] != want_last[i]) fail_msg("last_use[%d] = %d, expected %d", i, u.last_use[i], want_last[i]);

  assert_int_equal(u.bound[3], GC_BOUND_OUTPUT);
  assert_int_equal(u.bound[5], GC_BOUND_UPDATE);
  for (int i = 0; i < 3; i++) assert_int_equal(u.bound[i], 0);
  assert_true(gc_uses_is_bound(&u, 3) && gc_uses_is_bound(&u, 5) && !gc_uses_is_bound(&u, 4));
  /* dead: read by nothing and bound to nothing */
  for (int i = 0; i < 7; i++) assert_int_equal(gc_uses_is_dead(&u, i), i == 4 || i == 6);

  gc_uses_free(&u);
  assert_null(u.first);
  gc_uses_free(&u); /* twice is harmless */
  gc_graph_free(g);
}

static void test_output_and_update_on_one_node(void **state) {
  (void)state;
  gc_graph *g = parse_or_fail("graph @b {\n"
                              "  %p = param \"p\" : f32[]\n"
                              "  %q = neg %p : f32[]\n"
                              "  output \"p\" = %p\n"
                              "  update \"p\" = %q\n"
                              "  output \"q\" = %q\n"
                              "}\n");
  gc_uses u;
  assert_int_equal(gc_uses_init(&u, g, NULL), 0);
  assert_int_equal(u.bound[0], GC_BOUND_OUTPUT);
  assert_int_equal(u.bound[1], GC_BOUND_OUTPUT | GC_BOUND_UPDATE);
  assert_int_equal(u.last_use[0], 2); /* read by %1, but bound: lives to the end */
  assert_int_equal(u.last_use[1], 2);
  gc_uses_free(&u);
  gc_graph_free(g);
}

/* On every node of the all-ops file: counts and readers against a direct scan. */
static void test_agrees_with_direct_scan(void **state) {
  (void)state;
  FILE *f = fopen(GC_SOURCE_DIR "/tests/ir/files/all_ops.gcir", "rb");
  assert_non_null(f);
  static char text[1 << 16];
  size_t len = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[len] = 0;
  gc_graph *g = parse_or_fail(text);
  gc_uses u;
  assert_int_equal(gc_uses_init(&u, g, NULL), 0);
  int total = 0;
  for (int x = 0; x < g->n_nodes; x++) {
    int k = 0, last = x;
    for (int i = x + 1; i < g->n_nodes; i++)
      for (int j = 0; j < g->nodes[i]->n_in; j++)
        if (g->nodes[i]->in[j] == x) {
          assert_true(k < gc_uses_count(&u, x));
          assert_int_equal(gc_uses_readers(&u, x)[k++], i);
          last = i;
        }
    assert_int_equal(gc_uses_count(&u, x), k);
    bool bound = false;
    for (int b = 0; b < g->n_outputs; b++) bound |= g->outputs[b].node == x;
    for (int b = 0; b < g->n_updates; b++) bound |= g->updates[b].node == x;
    assert_int_equal(u.last_use[x], bound ? g->n_nodes : last);
    total += k;
  }
  assert_int_equal(u.n_reads, total);
  gc_uses_free(&u);
  gc_graph_free(g);
}

static void test_refuses_bad_references(void **state) {
  (void)state;
  gc_graph *g = parse_or_fail(small);
  gc_uses u;
  gc_diag d;
  g->nodes[3]->in[1] = 5; /* a forward reference */
  assert_int_equal(gc_uses_init(&u, g, &d), -1);
  assert_string_equal(d.msg, "node %3 (add): operand 1 is not defined before use");
  assert_null(u.first);
  gc_uses_free(&u);
  g->nodes[3]->in[1] = 1;
  g->outputs[1].node = 99;
  assert_int_equal(gc_uses_init(&u, g, &d), -1);
  assert_string_equal(d.msg, "output \"again\" refers to no value");
  g->outputs[1].node = 3;

  /* an empty graph has empty lists */
  gc_graph *e = gc_graph_new("empty");
  assert_int_equal(gc_uses_init(&u, e, &d), 0);
  assert_int_equal(u.n_nodes, 0);
  assert_int_equal(u.n_reads, 0);
  gc_uses_free(&u);
  gc_graph_free(e);
  gc_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_small_graph),
      cmocka_unit_test(test_output_and_update_on_one_node),
      cmocka_unit_test(test_agrees_with_direct_scan),
      cmocka_unit_test(test_refuses_bad_references),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
