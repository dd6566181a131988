/* The `kind`, `type`, `cost` and `view` columns of ops.def and the questions
 * asked of them: each op's kind, cost and view flag by name, the declared-type
 * flag against what the rules need, "fed" and generated sources, and on every
 * node of the all-ops file that the kind says what the node's types show. */
#include "tests/testutil.h"
#include "ir/ir.h"

#include <stdlib.h>
#include <string.h>

/* The classification, written out by name. */
static const struct {
  gc_kind kind;
  const char *ops;
} kinds[] = {
    {GC_KIND_SOURCE, " input param const iota rand_uniform "},
    {GC_KIND_ELEMENTWISE, " neg abs exp log sqrt rsqrt recip tanh sigmoid erf sin cos cast stop_gradient"
                          " add sub mul div max min pow lt le eq ne where "},
    {GC_KIND_LAYOUT, " broadcast reshape transpose slice concat pad "},
    {GC_KIND_REDUCE, " reduce_sum reduce_max argmax "},
    {GC_KIND_CONTRACT, " dot "},
    {GC_KIND_INDEX, " gather scatter_add "},
    {GC_KIND_COLLECTIVE, " all_reduce reduce_scatter all_gather "},
    {GC_KIND_CALL, " call "},
};

static const char *const declared_ops =
    " input param const iota rand_uniform cast broadcast reshape scatter_add call reduce_scatter all_gather ";

static bool listed(const char *list, gc_op op) {
  char word[64];
  snprintf(word, sizeof word, " %s ", gc_op_name(op));
  return strstr(list, word) != NULL;
}

static void test_kind_of_every_op(void **state) {
  (void)state;
  int counted = 0;
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
    for (int op = 0; op < GC_OP_COUNT; op++)
      if (listed(kinds[k].ops, (gc_op)op)) {
        if (gc_op_kind((gc_op)op) != kinds[k].kind)
          fail_msg("%s is %s, expected %s", gc_op_name((gc_op)op), gc_kind_name(gc_op_kind((gc_op)op)),
                   gc_kind_name(kinds[k].kind));
        assert_int_equal(gc_op_info_of((gc_op)op)->kind, kinds[k].kind);
        counted++;
      }
  assert_int_equal(counted, GC_OP_COUNT); /* every op is classified exactly once */
  assert_string_equal(gc_kind_name(GC_KIND_SOURCE), "source");
  assert_string_equal(gc_kind_name(GC_KIND_CONTRACT), "contract");
  assert_string_equal(gc_kind_name(GC_KIND_INDEX), "index");
  assert_string_equal(gc_kind_name(GC_KIND_COLLECTIVE), "collective");
  assert_true(gc_op_is_collective(GC_OP_ALL_GATHER) && !gc_op_is_collective(GC_OP_SCATTER_ADD));
  assert_string_equal(gc_kind_name(GC_KIND_CALL), "call");
  assert_true(gc_op_is_alone(GC_OP_CALL) && gc_op_is_alone(GC_OP_GATHER) && !gc_op_is_alone(GC_OP_DOT));
  assert_string_equal(gc_kind_name(GC_KIND_COUNT), "?");
  assert_true(gc_op_is_source(GC_OP_RAND_UNIFORM) && !gc_op_is_source(GC_OP_CAST));
  assert_true(gc_op_is_elementwise(GC_OP_WHERE) && !gc_op_is_elementwise(GC_OP_BROADCAST));
}

static void test_fed_sources(void **state) {
  (void)state;
  for (int op = 0; op < GC_OP_COUNT; op++)
    assert_int_equal(gc_op_is_fed((gc_op)op), op == GC_OP_INPUT || op == GC_OP_PARAM);
}

/* The `cost` and `view` columns, written out by name: the ops not listed
 * are cheap and not views. */
static const char *const transcendental_ops = " exp log sqrt rsqrt recip tanh sigmoid erf sin cos pow div ";
static const char *const contract_ops = " dot ";
static const char *const call_ops = " call ";
static const char *const view_ops = " broadcast reshape transpose slice stop_gradient ";

static void test_cost_and_view_of_every_op(void **state) {
  (void)state;
  int transcendental = 0, views = 0;
  for (int op = 0; op < GC_OP_COUNT; op++) {
    gc_cost want = listed(transcendental_ops, (gc_op)op) ? GC_COST_TRANSCENDENTAL
                   : listed(contract_ops, (gc_op)op)     ? GC_COST_CONTRACT
                   : listed(call_ops, (gc_op)op)         ? GC_COST_CALL
                                                         : GC_COST_CHEAP;
    if (gc_op_cost((gc_op)op) != want)
      fail_msg("%s costs %d, expected %d", gc_op_name((gc_op)op), (int)gc_op_cost((gc_op)op), (int)want);
    assert_int_equal(gc_op_info_of((gc_op)op)->cost, want);
    if (gc_op_is_view((gc_op)op) != listed(view_ops, (gc_op)op))
      fail_msg("%s: view %d", gc_op_name((gc_op)op), (int)gc_op_is_view((gc_op)op));
    /* a view moves elements without arithmetic: a layout op or the identity */
    if (gc_op_is_view((gc_op)op))
      assert_true(gc_op_kind((gc_op)op) == GC_KIND_LAYOUT || op == GC_OP_STOP_GRADIENT);
    transcendental += want == GC_COST_TRANSCENDENTAL;
    views += gc_op_is_view((gc_op)op);
  }
  assert_int_equal(transcendental, 12);
  assert_int_equal(views, 5);
}

/* Generated sources: the sources that are not fed. */
static void test_generated_sources(void **state) {
  (void)state;
  for (int op = 0; op < GC_OP_COUNT; op++)
    assert_int_equal(gc_op_is_generated((gc_op)op), op == GC_OP_CONST || op == GC_OP_IOTA || op == GC_OP_RAND_UNIFORM);
}

static gc_graph *all_ops(void) {
  FILE *f = fopen(GC_SOURCE_DIR "/tests/ir/files/all_ops.gcir", "rb");
  assert_non_null(f);
  static char text[1 << 16];
  size_t len = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  gc_diag d;
  gc_graph *g = gc_parse(text, len, &d);
  if (!g) fail_msg("%d:%d: %s", d.line, d.col, d.msg);
  return g;
}

/* The flag is set exactly for the ops whose rule cannot work without the
 * written type: inferring any other node of the file gives its type back. */
static void test_declared_flag_matches_rules(void **state) {
  (void)state;
  for (int op = 0; op < GC_OP_COUNT; op++)
    assert_int_equal(gc_op_declares_type((gc_op)op), listed(declared_ops, (gc_op)op));
  gc_graph *g = all_ops();
  bool seen[GC_OP_COUNT] = {false};
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    gc_type t;
    gc_diag d;
    int rc = gc_infer_type(g, n->op, n->in, n->n_in, &n->attrs, NULL, &t, &d);
    if (gc_op_declares_type(n->op)) {
      assert_int_equal(rc, -1);
      char want[64];
      snprintf(want, sizeof want, "%s needs its result type written", gc_op_name(n->op));
      assert_string_equal(d.msg, want);
    } else {
      if (rc) fail_msg("node %d (%s): %s", i, gc_op_name(n->op), d.msg);
      assert_true(gc_type_equal(&t, &n->type));
    }
    seen[n->op] = true;
  }
  for (int op = 0; op < GC_OP_COUNT; op++) assert_true(seen[op]);
  gc_graph_free(g);
}

/* What each kind means, checked on the nodes' types. */
static void test_kinds_agree_with_types(void **state) {
  (void)state;
  gc_graph *g = all_ops();
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    int64_t out = gc_type_numel_unchecked(&n->type);
    switch (gc_op_kind(n->op)) {
    case GC_KIND_SOURCE: /* no data operands: rand_uniform reads only its counter */
      assert_int_equal(n->n_in, n->op == GC_OP_RAND_UNIFORM ? 1 : 0);
      break;
    case GC_KIND_ELEMENTWISE: /* every operand has the result's shape */
      for (int k = 0; k < n->n_in; k++) assert_true(gc_shape_equal(&g->nodes[n->in[k]]->type, &n->type));
      break;
    case GC_KIND_LAYOUT: /* elements moved, not computed: the dtype stays */
      for (int k = 0; k < n->n_in; k++) assert_int_equal(g->nodes[n->in[k]]->type.dtype, n->type.dtype);
      break;
    case GC_KIND_REDUCE: /* fewer elements out than in */
      assert_true(out <= gc_type_numel_unchecked(&g->nodes[n->in[0]]->type));
      break;
    case GC_KIND_CONTRACT:
      assert_int_equal(n->n_in, 2);
      break;
    case GC_KIND_INDEX: /* one operand holds integer indices */
      assert_true(gc_dtype_is_int(g->nodes[n->in[n->op == GC_OP_GATHER ? 1 : 0]]->type.dtype));
      break;
    case GC_KIND_COLLECTIVE: /* one operand, its dtype and its dims past axis 0 kept */
      assert_int_equal(n->n_in, 1);
      assert_int_equal(g->nodes[n->in[0]]->type.dtype, n->type.dtype);
      for (int a = 1; a < n->type.rank; a++) assert_int_equal(g->nodes[n->in[0]]->type.dims[a], n->type.dims[a]);
      break;
    case GC_KIND_CALL: /* the user's function: the type is declared, an elementwise one keeps the shape */
      for (int k = 0; n->attrs.call.elementwise && k < n->n_in; k++)
        assert_true(gc_shape_equal(&g->nodes[n->in[k]]->type, &n->type));
      break;
    default:
      fail_msg("node %d: kind %d", i, (int)gc_op_kind(n->op));
    }
  }
  gc_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kind_of_every_op),
      cmocka_unit_test(test_fed_sources),
      cmocka_unit_test(test_cost_and_view_of_every_op),
      cmocka_unit_test(test_generated_sources),
      cmocka_unit_test(test_declared_flag_matches_rules),
      cmocka_unit_test(test_kinds_agree_with_types),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
