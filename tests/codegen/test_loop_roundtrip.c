/* The loop IR reads back: for every preset model's training step (forward,
 * loss, backward, optimizer; batch 1, 4 tokens) after the default passes,
 * every kernel goes through the stages with --print-ir-after-all, and each
 * printed function parses, verifies and prints as the same text.  (The
 * layers of a model print alike but for names: a text whose code, names
 * left out, was read back already is counted, not read again.)
 * gc-test: whole library (it builds the models' graphs) */
#include "tests/testutil.h"
#include "codegen/driver.h"
#include "frontend/optim.h"
#include "ir/live.h"
#include "ir/uses.h"
#include "models/model.h"

#include <stdlib.h>
#include <string.h>

static const char heading[] = "# IR after ";

/* The texts read back, by a hash of their code (names left out). */
enum { SEEN = 1 << 16 };
static uint64_t seen[SEEN];
static int n_seen;

static uint64_t code_hash(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) {
    if (*s == '"') {   /* a buffer's name */
      s = strchr(s + 1, '"');
      if (!s) break;
      continue;
    }
    if (*s == '@') s = strchr(s, '(');                                 /* the function's */
    else if (strncmp(s, "# error", 7) == 0) s = strchr(s, '\n');   /* an error's text */
    if (!s) break;
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  }
  return h ? h : 1;
}

/* Whether h was seen; remembers it. */
static bool seen_before(uint64_t h) {
  for (size_t i = h % SEEN;; i = (i + 1) % SEEN) {
    if (seen[i] == h) return true;
    if (!seen[i]) {
      assert_true(++n_seen < SEEN / 2);
      seen[i] = h;
      return false;
    }
  }
}

/* Each dump in text ("# IR after STAGE: kN ...\n" then the function) read
 * back; returns how many. */
static int check_dumps(const char *model, char *text, int *read) {
  int n = 0;
  for (char *at = strstr(text, heading); at;) {
    char *body = strchr(at, '\n');
    assert_non_null(body);
    *body++ = 0;
    char *next = strstr(body, "\n# IR after ");
    if (next) *++next = 0;
    n++;
    if (seen_before(code_hash(body))) goto next_dump;
    (*read)++;
    gc_diag d;
    gc_loop_fn *f = gc_loop_parse(body, &d);
    if (!f) fail_msg("%s: %s: does not parse: %d:%d: %s\n%s", model, at, d.line, d.col, d.msg, body);
    if (gc_loop_verify(f, &d)) fail_msg("%s: %s: parsed, does not verify: %s", model, at, d.msg);
    char *again = gc_loop_print(f);
    if (strcmp(again, body) != 0) fail_msg("%s: %s: prints back as\n%s\nnot\n%s", model, at, again, body);
    free(again);
    gc_loop_free(f);
  next_dump:
    if (next) next[0] = '#';
    at = next;
  }
  return n;
}

/* The kernels as a compiled backend runs them: gc_live's steps. */
static int check_model(const char *preset, int *read) {
  gc_diag d;
  gc_model_config c;
  if (gc_model_config_init(&c, preset, &d)) fail_msg("%s: %s", preset, d.msg);
  gc_model_shape shape = {.batch = 1, .seq = 4, .dec_seq = c.family->task == GC_MODEL_SEQ2SEQ ? 4 : 0, .training = true};
  gc_graph *g = gc_model_build(&c, &shape, NULL, &d);
  if (!g) fail_msg("%s: %s", preset, d.msg);
  gc_optim_config opt;
  gc_optim_defaults(&opt);
  if (gc_optim_append(g, "loss", &opt, &d)) fail_msg("%s: %s", preset, d.msg);
  if (!(g = gc_run_passes(g, NULL, NULL, &d))) fail_msg("%s: %s", preset, d.msg);
  gc_uses u;
  assert_int_equal(gc_uses_init(&u, g, &d), 0);
  gc_live l;
  assert_int_equal(gc_live_init(&l, g, &u, &d), 0);
  bool *inside = calloc((size_t)g->n_nodes, sizeof *inside);
  int *buffer = malloc(sizeof *buffer * (size_t)g->n_nodes), *nodes = malloc(sizeof *nodes * ((size_t)g->n_nodes + 1));
  int *first = malloc(sizeof *first * ((size_t)g->n_nodes + 2));
  for (int i = 0; i < g->n_nodes; i++) buffer[i] = -1;
  gc_live_steps(&l, g, nodes, first);
  int n_stages, kernels = 0, dumps = 0;
  gc_stages(&n_stages);
  for (; kernels < l.n_steps; kernels++) {
    int n = first[kernels + 1] - first[kernels];
    char name[32];
    snprintf(name, sizeof name, "k%d", kernels);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    gc_pass_options po;
    gc_pass_options_init(&po);
    po.print_after_all = true;
    po.out = out;
    gc_codegen_kernel k = {.ref = {g, nodes + first[kernels], n, name, &u, inside, buffer}, .target = {512, 48 << 10, 2 << 20},
                           .display = kernels};
    int rc = gc_codegen_run(&k, &po, NULL, &d);
    fclose(out);
    if (rc) fail_msg("%s: %s", preset, d.msg);
    dumps += check_dumps(preset, text, read);
    free(text);
    gc_loop_free(k.fn);
    free(k.buffer_nodes);
  }
  assert_true(kernels > 10);
  assert_int_equal(dumps, kernels * n_stages);   /* every kernel after every stage */
  free(inside), free(buffer), free(nodes), free(first);
  gc_live_free(&l);
  gc_uses_free(&u);
  gc_graph_free(g);
  gc_model_config_free(&c);
  return dumps;
}

static void test_every_preset(void **state) {
  (void)state;
  int n_families, models = 0, dumps = 0, read = 0;
  const gc_model_family *const *families = gc_model_families(&n_families);
  for (int i = 0; i < n_families; i++)
    for (const gc_model_preset *p = families[i]->presets; p && p->name; p++) {
      int before = read, n = check_model(p->name, &read);
      print_message("%s: %d loop functions, %d new read back\n", p->name, n, read - before);
      dumps += n;
      models++;
    }
  assert_true(models >= 5);
  assert_true(read > 500);
  print_message("%d presets, %d loop functions, %d read back\n", models, dumps, read);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_preset),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
