/* Each tiny model, trained by its one-graph training step (forward, loss,
 * backward, AdamW), overfits two fixed batches: the loss on both falls
 * below 0.1.  Dropout is off (an eval-mode graph plus the optimizer), so
 * what is measured is the model, autodiff and the optimizer together.  The
 * step is compiled once for the backend under test (tests/backend_param.h)
 * and run on alternating batches; on a backend other than interp the first
 * step's loss is also checked against the interpreter's (f32, 1e-5).
 * gc-test: every backend */
#include "tests/testutil.h"
#include "tests/backend_param.h"
#include "backends/interp/interp.h"
#include "frontend/builder.h"
#include "frontend/optim.h"
#include "models/model.h"
#include "models/model_io.h"

#include <string.h>

enum { B = 2, T = 12, TD = 8, MAX_STEPS = 150 };

/* Deterministic ids in [2, V); labels -100 where `ignore` picks. */
static gc_tensor *ids(int64_t rows, int64_t cols, int64_t V, uint64_t seed, int ignore_every) {
  gc_type t = gc_type_make(GC_I64, 2, (int64_t[]){rows, cols});
  gc_tensor *x = gc_tensor_new(&t);
  for (int64_t i = 0; i < rows * cols; i++) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    int64_t v = 2 + (int64_t)((seed >> 33) % (uint64_t)(V - 2));
    ((int64_t *)x->data)[i] = ignore_every && i % ignore_every == 1 ? -100 : v;
  }
  return x;
}

static void batch(const gc_model_config *c, const gc_graph *g, uint64_t seed, gc_tensor_map *m) {
  gc_diag d;
  int64_t V = c->family->vocab_size(c->config);
  bool seq2seq = c->family->task == GC_MODEL_SEQ2SEQ;
  gc_tensor_map_init(m);
  gc_tensor_map_put(m, "input_ids", ids(B, T, V, seed, 0));
  /* BERT predicts some positions only, like MLM labels */
  gc_tensor_map_put(m, "labels", ids(B, seq2seq ? TD : T, V, seed + 7,
                                     c->family->task == GC_MODEL_MASKED_LM ? 3 : 0));
  if (gc_model_complete_inputs(c, g, m, NULL, &d)) fail_msg("inputs: %s", d.msg);
}

/* One training step of p on `inputs`; the loss before its update. */
static double run(gc_program *p, const gc_tensor_map *inputs) {
  gc_diag d;
  if (gc_program_feed(p, inputs, &d)) fail_msg("feed: %s", d.msg);
  gc_test_rerun(p, NULL);
  return gc_tensor_load(gc_test_output(p, "loss"), 0);
}

/* The first step's loss on the interpreter (the oracle), params untouched. */
static double interp_loss(const gc_graph *g, const gc_tensor_map *params, const gc_tensor_map *inputs) {
  gc_diag d;
  gc_tensor_map copy, out;
  gc_tensor_map_init(&copy);
  gc_tensor_map_init(&out);
  for (int i = 0; i < params->n; i++) gc_tensor_map_put(&copy, params->names[i], gc_tensor_clone(params->tensors[i]));
  if (gc_interp_run(g, &copy, inputs, &out, &d)) fail_msg("run on interp: %s", d.msg);
  double loss = gc_tensor_load(gc_tensor_map_get(&out, "loss"), 0);
  gc_tensor_map_clear(&copy);
  gc_tensor_map_clear(&out);
  return loss;
}

static void overfit(const char *name) {
  gc_diag d;
  gc_model_config c;
  gc_init_table *inits;
  gc_optim_config o;
  gc_optim_defaults(&o);
  o.lr = 3e-3;
  o.warmup = 10;
  o.schedule = GC_SCHEDULE_CONSTANT;
  o.weight_decay = 0;
  if (gc_model_config_init(&c, name, &d)) fail_msg("%s", d.msg);
  gc_model_shape s = {.batch = B, .seq = T, .dec_seq = TD};
  gc_graph *g = gc_model_build(&c, &s, &inits, &d);
  if (!g || gc_optim_append(g, "loss", &o, &d)) fail_msg("%s: %s", name, d.msg);
  gc_tensor_map params, b0, b1;
  gc_tensor_map_init(&params);
  batch(&c, g, 1, &b0);
  batch(&c, g, 2, &b1);
  if (gc_model_load_params(&c, g, NULL, &params, inits, 3, NULL, &d)) fail_msg("%s", d.msg);
  double want = gc_test_on_interp() ? 0 : interp_loss(g, &params, &b0);
  gc_program *p = gc_test_compile(g, &params, &b0);
  double first = run(p, &b0), l0 = first, l1 = first;
  if (!gc_test_on_interp() && !gc_close(first, want, 1e-5))
    fail_msg("%s: first loss %.9g on %s, %.9g on interp", name, first, gc_test_backend(), want);
  int step = 1;
  for (; step < MAX_STEPS && (l0 >= 0.1 || l1 >= 0.1); step += 2) {
    l1 = run(p, &b1);
    l0 = run(p, &b0);
  }
  /* the last losses were measured before their step's update: one more look */
  l1 = run(p, &b1);
  l0 = run(p, &b0);
  gc_program_free(p);
  printf("%s: loss %.3f -> %.4f / %.4f after %d steps (%s)\n", name, first, l0, l1, step + 2, gc_test_backend());
  if (!(l0 < 0.1 && l1 < 0.1)) fail_msg("%s did not overfit two batches: losses %.4f, %.4f", name, l0, l1);
  gc_tensor_map_clear(&params);
  gc_tensor_map_clear(&b0);
  gc_tensor_map_clear(&b1);
  gc_init_table_free(inits);
  gc_graph_free(g);
  gc_model_config_free(&c);
}

static void test_qwen2(void **state) { (void)state; overfit("qwen2_tiny"); }
static void test_gpt2(void **state) { (void)state; overfit("gpt2_tiny"); }
static void test_bert(void **state) { (void)state; overfit("bert_tiny"); }
static void test_t5(void **state) { (void)state; overfit("t5_tiny"); }

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_qwen2),
      cmocka_unit_test(test_gpt2),
      cmocka_unit_test(test_bert),
      cmocka_unit_test(test_t5),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
