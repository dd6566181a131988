/* The verifier judges a real plan value by value: qwen2_tiny's training step
 * after the default pipeline verifies; stripped of a place, or with an
 * offset given to a value that is not stored, it is refused at that value
 * (every 4th stored value and every 16th other, to keep the test short) (llvm refused the first, "stored but has no place in the
 * plan", and the interpreter placed the second over live data); and every
 * update plan wrote into its param, moved after a later read of the param,
 * is refused too.
 *
 * (In tests/models/ because it builds a model.) */
#include "tests/testutil.h"
#include "frontend/optim.h"
#include "ir/live.h"
#include "models/model.h"
#include "passes/pass.h"

#include <string.h>

static gc_graph *planned_step(void) {
  gc_diag d;
  gc_model_config c;
  gc_init_table *inits = NULL;
  gc_optim_config o;
  gc_optim_defaults(&o);
  if (gc_model_config_init(&c, "qwen2_tiny", &d)) fail_msg("%s", d.msg);
  gc_model_shape shape = {.batch = 2, .seq = 8, .dec_seq = 8, .training = true};
  gc_graph *g = gc_model_build(&c, &shape, &inits, &d);
  if (!g || gc_optim_append(g, "loss", &o, &d)) fail_msg("build: %s", d.msg);
  gc_init_table_free(inits);
  gc_model_config_free(&c);
  g = gc_run_passes(g, NULL, NULL, &d);
  if (!g) fail_msg("pipeline: %s", d.msg);
  return g;
}

/* The verifier refuses g at node `at` with `word` in its message. */
static void refused_at(const gc_graph *g, int at, const char *word) {
  gc_diag d;
  if (gc_verify(g, &d) == 0) fail_msg("node %%%d: the mutation is accepted", at);
  char want[32];
  snprintf(want, sizeof want, "node %%%d ", at);
  if (strncmp(d.msg, want, strlen(want)) != 0 || !strstr(d.msg, word))
    fail_msg("node %%%d: refused with \"%s\", not at it for \"%s\"", at, d.msg, word);
}

static void test_every_place_is_judged(void **state) {
  (void)state;
  gc_graph *g = planned_step();
  gc_diag d;
  if (gc_verify(g, &d)) fail_msg("the plan as made: %s", d.msg);
  gc_uses u;
  gc_live l;
  assert_int_equal(gc_uses_init(&u, g, &d), 0);
  assert_int_equal(gc_live_init(&l, g, &u, &d), 0);
  int stripped = 0, given = 0, seen_stored = 0, seen_other = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    gc_node *n = g->nodes[i];
    if (l.stored[i]) assert_true(n->planned);
    if (l.stored[i] && seen_stored++ % 4 == 0) {
      const char *into = n->into;
      n->planned = false, n->into = NULL;
      refused_at(g, i, "has no place");
      n->planned = true, n->into = into;
      stripped++;
    } else if (!l.stored[i] && l.step[i] >= 0 && seen_other++ % 16 == 0) {
      n->planned = true, n->offset = 0;
      refused_at(g, i, "only a stored value");
      n->planned = false;
      given++;
    }
  }
  /* an update written in place, with a reader of its param appended after it:
   * a node outside kernels is a step of its own, after every kernel */
  int moved = 0;
  for (int k = 0; k < g->n_updates; k += 4) {
    int v = g->updates[k].node, p = gc_graph_find_param(g, g->updates[k].name);
    if (!g->nodes[v]->into || gc_op_kind(g->nodes[p]->op) != GC_KIND_SOURCE) continue;
    gc_graph *h = gc_graph_clone(g);
    assert_non_null(h);
    int r = gc_graph_add(h, GC_OP_NEG, (int[]){p}, 1, NULL, NULL, &d);
    assert_true(r >= 0);
    h->nodes[r]->planned = true;   /* stored (bound below), at the arena's end */
    h->nodes[r]->offset = 1 << 30;
    assert_int_equal(gc_graph_add_output(h, "after", r, &d), 0);
    refused_at(h, v, "in a later kernel");
    gc_graph_free(h);
    moved++;
  }
  print_message("qwen2_tiny step: %d places stripped, %d given to values not stored, %d updates read after: each "
                "refused at its value\n", stripped, given, moved);
  assert_true(stripped > 100 && given > 100 && moved > 30);
  gc_live_free(&l);
  gc_uses_free(&u);
  gc_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_place_is_judged),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
