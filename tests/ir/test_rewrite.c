/* The sticky emitter and the graph rebuild helper (ir/rewrite.h): a rebuild
 * that copies everything prints identically; rewrites that drop or replace
 * nodes remap operands, outputs and updates; errors are sticky and leave the
 * graph untouched. */
#include "tests/testutil.h"
#include "ir/ir.h"
#include "ir/rewrite.h"
#include "ir/uses.h"

#include <stdlib.h>
#include <string.h>

static gc_graph *parse_or_fail(const char *text) {
  gc_diag d;
  gc_graph *g = gc_parse(text, strlen(text), &d);
  if (!g) fail_msg("%d:%d: %s", d.line, d.col, d.msg);
  return g;
}

static void assert_prints(const gc_graph *g, const char *want) {
  char *got = gc_print(g);
  assert_non_null(got);
  if (strcmp(got, want) != 0) fail_msg("printed:\n%s\nexpected:\n%s", got, want);
  free(got);
}

/* ---- copying everything ------------------------------------------------ */

static void test_copy_all_prints_identically(void **state) {
  (void)state;
  FILE *f = fopen(GC_SOURCE_DIR "/tests/ir/files/all_ops.gcir", "rb");
  assert_non_null(f);
  static char text[1 << 16];
  size_t len = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[len] = 0;
  gc_graph *g = parse_or_fail(text);
  gc_diag d;
  gc_rebuild r;
  assert_int_equal(gc_rebuild_begin(&r, g, &d), 0);
  for (int i = 0; i < g->n_nodes; i++) assert_int_equal(gc_rebuild_copy(&r, i), i);
  for (int i = 0; i < g->n_nodes; i++) assert_int_equal(gc_rebuild_id(&r, i), i);
  gc_graph *c = gc_rebuild_finish(&r);
  if (!c) fail_msg("%s", d.msg);
  char *p1 = gc_print(g), *p2 = gc_print(c);
  assert_string_equal(p1, p2);
  free(p1);
  free(p2);
  assert_true(gc_hash_graph(g) == gc_hash_graph(c));
  assert_string_equal(c->name, g->name);
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *a = g->nodes[i], *b = c->nodes[i];
    assert_true(a->line > 0 && a->col > 0);
    assert_int_equal(b->line, a->line);
    assert_int_equal(b->col, a->col);
    if (a->label) assert_true(b->label != a->label && strcmp(b->label, a->label) == 0); /* in c's arena */
    else assert_null(b->label);
  }
  assert_int_equal(gc_verify(c, &d), 0);
  gc_graph_free(g); /* the copy owns all of its strings */
  assert_int_equal(gc_verify(c, &d), 0);
  gc_graph_free(c);
}

/* ---- replacing `mul %x, const 1` by %x --------------------------------- */

static const char *const with_ones =
    "graph @r {\n"
    "  %x = input \"x\" : f32[4]\n"                   /* %0 */
    "  %one = const 1 : f32[4]\n"                     /* %1 */
    "  %m = mul %x, %one {label=\"scale\"} : f32[4]\n" /* %2 -> x */
    "  %t = tanh %m : f32[4]\n"                       /* %3 */
    "  %p = param \"p\" : f32[4]\n"                   /* %4 */
    "  %n = mul %p, %one : f32[4]\n"                  /* %5 -> p */
    "  %k = mul %t, %t : f32[4]\n"                    /* %6 stays */
    "  output \"m\" = %m\n"
    "  output \"t\" = %t\n"
    "  output \"k\" = %k\n"
    "  update \"p\" = %n\n"
    "}\n";

static bool is_const_one(const gc_graph *g, int id) {
  return g->nodes[id]->op == GC_OP_CONST && g->nodes[id]->attrs.value.value == 1.0;
}

static bool is_mul_by_one(const gc_graph *g, int id) {
  const gc_node *n = g->nodes[id];
  return n->op == GC_OP_MUL && is_const_one(g, n->in[1]);
}

static gc_graph *drop_mul_by_one(const gc_graph *g, int *map, gc_diag *d) {
  gc_rebuild r;
  gc_rebuild_begin(&r, g, d);
  for (int i = 0; i < g->n_nodes; i++)
    if (is_mul_by_one(g, i)) gc_rebuild_map(&r, i, gc_rebuild_id(&r, g->nodes[i]->in[0]));
    else gc_rebuild_copy(&r, i);
  for (int i = 0; map && i < g->n_nodes; i++) map[i] = gc_rebuild_id(&r, i);
  return gc_rebuild_finish(&r);
}

static void test_replace_mul_by_one(void **state) {
  (void)state;
  gc_graph *g = parse_or_fail(with_ones);
  gc_diag d;
  int map[7];
  gc_graph *h = drop_mul_by_one(g, map, &d);
  if (!h) fail_msg("%s", d.msg);
  int want_map[7] = {0, 1, 0, 2, 3, 3, 4};
  for (int i = 0; i < 7; i++)
    if (map[i] != want_map[i]) fail_msg("map[%d] = %d, expected %d", i, map[i], want_map[i]);
  assert_prints(h, "graph @r {\n"
                   "  %0 = input \"x\" : f32[4]\n"
                   "  %1 = const 1 : f32[4]\n"
                   "  %2 = tanh %0 : f32[4]\n"
                   "  %3 = param \"p\" : f32[4]\n"
                   "  %4 = mul %2, %2 : f32[4]\n"
                   "  output \"m\" = %0\n"
                   "  output \"t\" = %2\n"
                   "  output \"k\" = %4\n"
                   "  update \"p\" = %3\n"
                   "}\n");
  assert_int_equal(gc_verify(h, &d), 0);
  /* the new graph's uses: x is read by tanh only, and bound to "m" */
  gc_uses u;
  assert_int_equal(gc_uses_init(&u, h, &d), 0);
  assert_int_equal(gc_uses_count(&u, 0), 1);
  assert_int_equal(gc_uses_readers(&u, 0)[0], 2);
  assert_int_equal(u.bound[0], GC_BOUND_OUTPUT);
  assert_int_equal(u.bound[3], GC_BOUND_UPDATE);
  assert_true(gc_uses_is_dead(&u, 1)); /* the const 1 has no readers left */
  assert_int_equal(u.last_use[1], 1);
  gc_uses_free(&u);
  /* the position of tanh is still line 5 of the text */
  assert_int_equal(h->nodes[2]->line, 5);
  assert_int_equal(h->nodes[2]->col, 3);
  gc_graph_free(h);
  gc_graph_free(g);
}

/* neg %x -> sub (const 0), %x: emitted nodes take the old node's label and place. */
static void test_emit_replacements(void **state) {
  (void)state;
  gc_graph *g = parse_or_fail("graph @e {\n"
                              "  %x = input \"x\" : f32[2]\n"
                              "  %y = neg %x {label=\"flip\"} : f32[2]\n"
                              "  output \"y\" = %y\n"
                              "}\n");
  gc_diag d;
  gc_rebuild r;
  gc_rebuild_begin(&r, g, &d);
  gc_rebuild_copy(&r, 0);
  gc_attrs zero = {.value = {.value = 0.0}};
  int z = gc_rebuild_emit(&r, 1, GC_OP_CONST, NULL, 0, &zero, &g->nodes[1]->type);
  int s = gc_rebuild_emit(&r, 1, GC_OP_SUB, (int[]){z, gc_rebuild_id(&r, 0)}, 2, NULL, NULL);
  assert_int_equal(z, 1);
  assert_int_equal(s, 2);
  assert_int_equal(gc_rebuild_id(&r, 1), -1); /* emitting maps nothing */
  assert_int_equal(gc_rebuild_map(&r, 1, s), 0);
  gc_graph *h = gc_rebuild_finish(&r);
  if (!h) fail_msg("%s", d.msg);
  assert_prints(h, "graph @e {\n"
                   "  %0 = input \"x\" : f32[2]\n"
                   "  %1 = const 0 {label=\"flip\"} : f32[2]\n"
                   "  %2 = sub %1, %0 {label=\"flip\"} : f32[2]\n"
                   "  output \"y\" = %2\n"
                   "}\n");
  assert_int_equal(h->nodes[2]->line, 3);
  assert_int_equal(h->nodes[2]->col, 3);
  gc_graph_free(h);
  gc_graph_free(g);
}

/* ---- sticky errors ----------------------------------------------------- */

static void test_emitter_is_sticky(void **state) {
  (void)state;
  gc_graph *g = gc_graph_new("s");
  gc_diag d = {.msg = ""};
  gc_emitter e;
  gc_emitter_init(&e, g, &d);
  int64_t four = 4, three = 3;
  gc_type t4 = gc_type_make(GC_F32, 1, &four), t3 = gc_type_make(GC_F32, 1, &three);
  int a = gc_emit(&e, GC_OP_INPUT, NULL, 0, &(gc_attrs){.name = {.name = "a"}}, &t4);
  int b = gc_emit(&e, GC_OP_INPUT, NULL, 0, &(gc_attrs){.name = {.name = "b"}}, &t3);
  assert_int_equal(a, 0);
  assert_int_equal(b, 1);
  assert_false(e.failed);
  /* a rule failure is recorded ... */
  assert_int_equal(gc_emit(&e, GC_OP_ADD, (int[]){a, b}, 2, NULL, NULL), -1);
  assert_true(e.failed);
  assert_string_equal(d.msg, "add: operand types f32[4] and f32[3] must be equal");
  /* ... and later calls do nothing, keeping the first message */
  assert_int_equal(gc_emit(&e, GC_OP_NEG, (int[]){a}, 1, NULL, NULL), -1);
  assert_int_equal(gc_emitter_fail(&e, "another problem"), -1);
  assert_string_equal(d.msg, "add: operand types f32[4] and f32[3] must be equal");
  assert_int_equal(g->n_nodes, 2);

  /* a missing operand fails without touching the graph */
  gc_emitter_init(&e, g, &d);
  assert_int_equal(gc_emit(&e, GC_OP_MUL, (int[]){a, -1}, 2, NULL, NULL), -1);
  assert_string_equal(d.msg, "mul: operand 1 is missing");
  assert_int_equal(gc_emit(&e, GC_OP_NEG, (int[]){a}, 1, NULL, NULL), -1);
  assert_int_equal(g->n_nodes, 2);

  /* without a diag it still fails, silently */
  gc_emitter_init(&e, g, NULL);
  assert_int_equal(gc_emit(&e, GC_OP_ADD, (int[]){a, b}, 2, NULL, NULL), -1);
  assert_int_equal(gc_emit(&e, GC_OP_NEG, (int[]){a}, 1, NULL, NULL), -1);
  assert_int_equal(g->n_nodes, 2);
  gc_graph_free(g);
}

static void test_rebuild_errors(void **state) {
  (void)state;
  gc_graph *g = parse_or_fail(with_ones);
  gc_diag d;
  gc_rebuild r;

  /* dropping %m, which tanh still reads: the copy of tanh fails, at its line */
  gc_rebuild_begin(&r, g, &d);
  gc_rebuild_copy(&r, 0);
  gc_rebuild_copy(&r, 1);
  assert_int_equal(gc_rebuild_copy(&r, 3), -1);
  assert_string_equal(d.msg, "rebuild: node %3 (tanh): its operand %2 has no counterpart in the new graph");
  assert_int_equal(d.line, 5);
  assert_int_equal(d.col, 3);
  assert_int_equal(gc_rebuild_copy(&r, 4), -1); /* sticky */
  assert_int_equal(r.em.g->n_nodes, 2);
  assert_null(gc_rebuild_finish(&r));
  assert_string_equal(d.msg, "rebuild: node %3 (tanh): its operand %2 has no counterpart in the new graph");

  /* an output whose value was dropped */
  gc_rebuild_begin(&r, g, &d);
  for (int i = 0; i < g->n_nodes; i++)
    if (i != 2 && i != 3 && i != 6) gc_rebuild_copy(&r, i);
  assert_false(r.em.failed);
  assert_null(gc_rebuild_finish(&r));
  assert_string_equal(d.msg, "rebuild: output \"m\": its value %2 has no counterpart in the new graph");

  /* a replacement of another type: the copy of its reader no longer type checks */
  gc_rebuild_begin(&r, g, &d);
  gc_rebuild_copy(&r, 0);
  int s = gc_rebuild_emit(&r, -1, GC_OP_CONST, NULL, 0, &(gc_attrs){.value = {.value = 1}},
                          &(gc_type){.dtype = GC_F32, .rank = 0});
  assert_int_equal(gc_rebuild_map(&r, 2, s), 0);
  assert_int_equal(gc_rebuild_copy(&r, 3), -1);
  assert_string_equal(d.msg, "rebuild: node %3 (tanh): tanh: result type f32[4] does not follow from "
                             "operands (f32[]); expected f32[]");
  assert_null(gc_rebuild_finish(&r));

  /* mapping to a node the new graph lacks, or from one the old graph lacks */
  gc_rebuild_begin(&r, g, &d);
  gc_rebuild_copy(&r, 0);
  assert_int_equal(gc_rebuild_map(&r, 2, 1), -1);
  assert_string_equal(d.msg, "rebuild: node %2 (mul) mapped to %1, which the new graph lacks");
  assert_null(gc_rebuild_finish(&r));
  gc_rebuild_begin(&r, g, &d);
  assert_int_equal(gc_rebuild_map(&r, 7, 0), -1);
  assert_string_equal(d.msg, "rebuild: there is no old node %7 to map");
  assert_int_equal(gc_rebuild_copy(&r, 0), -1);
  assert_null(gc_rebuild_finish(&r));
  gc_rebuild_begin(&r, g, &d);
  assert_int_equal(gc_rebuild_copy(&r, -1), -1);
  assert_string_equal(d.msg, "rebuild: there is no old node %-1 to copy");
  assert_null(gc_rebuild_finish(&r));

  /* an update whose value was dropped */
  gc_rebuild_begin(&r, g, &d);
  for (int i = 0; i < g->n_nodes; i++)
    if (i != 5) gc_rebuild_copy(&r, i);
  assert_null(gc_rebuild_finish(&r));
  assert_string_equal(d.msg, "rebuild: update \"p\": its value %5 has no counterpart in the new graph");
  gc_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_copy_all_prints_identically),
      cmocka_unit_test(test_replace_mul_by_one),
      cmocka_unit_test(test_emit_replacements),
      cmocka_unit_test(test_emitter_is_sticky),
      cmocka_unit_test(test_rebuild_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
