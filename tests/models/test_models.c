/* The model families: published parameter counts, causality, the loss at
 * initialisation, and an f64 finite-difference check of each whole tiny model,
 * on the backend under test (tests/backend_param.h); on any backend but
 * interp, also every tiny model's loss, logits and gradients against the
 * interpreter's, in f64 and f32.  The whole-model checks share one shape
 * (B 1, T 5, decoder 4), so a backend that caches compiled kernels compiles
 * each model's kernels once per dtype.  (Names and shapes against Hugging
 * Face's are checked, with values, by test_hf_reference.py and
 * test_param_names.py.)
 * gc-test: every backend */
#include "tests/autodiff/gradcheck.h"
#include "frontend/builder.h"
#include "models/model.h"
#include "models/model_io.h"

#include <math.h>
#include <string.h>

static const char *const tiny[] = {"qwen2_tiny", "gpt2_tiny", "bert_tiny", "t5_tiny", "alibi_tiny"};

static gc_graph *build(const char *name, const char *set, int64_t B, int64_t T, int64_t Td, gc_model_config *c,
                       gc_init_table **inits) {
  gc_diag d;
  if (gc_model_config_init(c, name, &d)) fail_msg("%s: %s", name, d.msg);
  if (set && gc_model_config_set(c, set, &d)) fail_msg("%s: %s", name, d.msg);
  gc_model_shape s = {.batch = B, .seq = T, .dec_seq = Td};
  gc_graph *g = gc_model_build(c, &s, inits, &d);
  if (!g) fail_msg("%s: %s", name, d.msg);
  return g;
}

/* ---- published parameter counts ---------------------------------------- */

static void test_real_preset_counts(void **state) {
  (void)state;
  static const struct { const char *name; int64_t count; } want[] = {
      {"qwen2_0.5b", 494032768}, {"gpt2", 124439808}, {"bert_base", 109514298}, {"t5_small", 60506624}};
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    gc_model_config c;
    gc_graph *g = build(want[i].name, NULL, 1, 8, 4, &c, NULL);
    int64_t n = gc_graph_param_count(g);
    if (n != want[i].count) fail_msg("%s: %lld parameters, expected %lld", want[i].name, (long long)n,
                                     (long long)want[i].count);
    gc_graph_free(g);
    gc_model_config_free(&c);
  }
}

/* ---- inputs ------------------------------------------------------------ */

static gc_tensor *ids_tensor(int64_t B, int64_t T, int64_t V, uint64_t seed) {
  gc_type t = gc_type_make(GC_I64, 2, (int64_t[]){B, T});
  gc_tensor *x = gc_tensor_new(&t);
  for (int64_t i = 0; i < B * T; i++) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    ((int64_t *)x->data)[i] = 2 + (int64_t)((seed >> 33) % (uint64_t)(V - 2));
  }
  return x;
}

/* Params from the model's own init, inputs random, HF defaults for the rest. */
static void feed(const gc_model_config *c, const gc_graph *g, gc_init_table *inits, gc_tensor_map *params,
                 gc_tensor_map *inputs, uint64_t seed) {
  gc_diag d;
  int64_t V = c->family->vocab_size(c->config);
  const gc_node *ids = g->nodes[gc_graph_find_input(g, "input_ids")];
  const gc_node *labels = g->nodes[gc_graph_find_input(g, "labels")];
  gc_tensor_map_put(inputs, "input_ids", ids_tensor(ids->type.dims[0], ids->type.dims[1], V, seed));
  gc_tensor_map_put(inputs, "labels", ids_tensor(labels->type.dims[0], labels->type.dims[1], V, seed + 1));
  if (gc_model_complete_inputs(c, g, inputs, NULL, &d)) fail_msg("inputs: %s", d.msg);
  if (gc_model_load_params(c, g, NULL, params, inits, 42, NULL, &d)) fail_msg("params: %s", d.msg);
}

/* The whole-model checks' shape: batch, sequence, decoder sequence. */
enum { CB = 1, CT = 5, CTD = 4 };

static gc_tensor *run_logits(const gc_graph *g, gc_tensor_map *params, const gc_tensor_map *inputs, double *loss) {
  gc_diag d;
  gc_tensor_map out;
  gc_tensor_map_init(&out);
  if (gc_test_run(g, params, inputs, &out, &d)) fail_msg("run on %s: %s", gc_test_backend(), d.msg);
  if (loss) *loss = gc_tensor_load(gc_tensor_map_get(&out, "loss"), 0);
  gc_tensor *logits = gc_tensor_map_take(&out, "logits");
  gc_tensor_map_clear(&out);
  return logits;
}

/* ---- loss at initialisation ---------------------------------------------- */

static void test_initial_loss_near_ln_vocab(void **state) {
  (void)state;
  for (size_t m = 0; m < sizeof tiny / sizeof *tiny; m++) {
    gc_model_config c;
    gc_init_table *inits;
    gc_graph *g = build(tiny[m], NULL, 4, 32, 16, &c, &inits);
    gc_tensor_map params, inputs;
    gc_tensor_map_init(&params);
    gc_tensor_map_init(&inputs);
    feed(&c, g, inits, &params, &inputs, 7);
    double loss;
    gc_tensor_free(run_logits(g, &params, &inputs, &loss));
    double want = log((double)c.family->vocab_size(c.config));
    printf("%s: loss at init %.4f, ln(vocab) %.4f\n", tiny[m], loss, want);
    /* HF's inits give near-uniform predictions.  T5's differ: its shared
     * embedding has std 1, so the decoder's residual stream still carries
     * the input token's own embedding, whose tied logit is ~sqrt(d_model);
     * HF's T5 starts about 1 nat above ln(vocab) for the same reason. */
    double tol = strcmp(tiny[m], "t5_tiny") == 0 ? 1.25 : 0.1;
    if (!(fabs(loss - want) < tol)) fail_msg("%s: loss %.4f is not within %.2f of ln(vocab) %.4f", tiny[m], loss, tol, want);
    gc_tensor_map_clear(&params);
    gc_tensor_map_clear(&inputs);
    gc_init_table_free(inits);
    gc_graph_free(g);
    gc_model_config_free(&c);
  }
}

/* HF's _init_weights zeroes BERT's padding_idx row; the rest is normal(0.02). */
static void test_bert_init_zeroes_the_padding_row(void **state) {
  (void)state;
  gc_model_config c;
  gc_init_table *inits;
  gc_graph *g = build("bert_tiny", "pad_token_id=3", 1, 4, 4, &c, &inits);
  gc_tensor_map params, inputs;
  gc_tensor_map_init(&params);
  gc_tensor_map_init(&inputs);
  feed(&c, g, inits, &params, &inputs, 5);
  const gc_tensor *w = gc_tensor_map_get(&params, "bert.embeddings.word_embeddings.weight");
  int64_t H = w->type.dims[1];
  double ss = 0;
  for (int64_t i = 0; i < H; i++) {
    assert_true(gc_tensor_load(w, 3 * H + i) == 0.0);
    ss += gc_tensor_load(w, 4 * H + i) * gc_tensor_load(w, 4 * H + i);
  }
  assert_true(sqrt(ss / (double)H) > 0.01 && sqrt(ss / (double)H) < 0.03);
  gc_tensor_map_clear(&params);
  gc_tensor_map_clear(&inputs);
  gc_init_table_free(inits);
  gc_graph_free(g);
  gc_model_config_free(&c);
}

/* ---- causality --------------------------------------------------------- */

/* Change the token of `input` at position `at` and report which positions'
 * logits changed: one program (the gradient check's shape, in f64, with its
 * gradients: the same kernels), run before and after the change. */
static void changed_positions(const char *model, const char *input, int64_t at, bool *changed, int64_t *n_pos) {
  gc_diag d;
  gc_model_config c;
  gc_init_table *inits;
  gc_graph *g = build(model, "dtype=f64", CB, CT, CTD, &c, &inits);
  if (gc_grad_outputs(g, "loss", &d)) fail_msg("%s: %s", model, d.msg);
  gc_tensor_map params, inputs;
  gc_tensor_map_init(&params);
  gc_tensor_map_init(&inputs);
  feed(&c, g, inits, &params, &inputs, 11);
  gc_program *p = gc_test_compile(g, &params, &inputs);
  gc_test_rerun(p, NULL);
  gc_tensor *before = gc_tensor_clone(gc_test_output(p, "logits"));
  gc_tensor *x = gc_program_input(p, input);
  int64_t *v = x->data;
  v[at] = v[at] == 5 ? 6 : 5;
  gc_test_rerun(p, NULL);
  gc_tensor *after = gc_tensor_clone(gc_test_output(p, "logits"));
  gc_program_free(p);
  int64_t T = before->type.dims[1], V = before->type.dims[2];
  *n_pos = T;
  for (int64_t t = 0; t < T; t++) {
    changed[t] = false;
    for (int64_t k = 0; k < V; k++)
      if (((double *)before->data)[t * V + k] != ((double *)after->data)[t * V + k]) changed[t] = true;
  }
  gc_tensor_free(before);
  gc_tensor_free(after);
  gc_tensor_map_clear(&params);
  gc_tensor_map_clear(&inputs);
  gc_init_table_free(inits);
  gc_graph_free(g);
  gc_model_config_free(&c);
}

static void test_causal_models_do_not_see_the_future(void **state) {
  (void)state;
  static const struct { const char *model, *input; } cases[] = {
      {"qwen2_tiny", "input_ids"}, {"gpt2_tiny", "input_ids"}, {"t5_tiny", "decoder_input_ids"},
      {"alibi_tiny", "input_ids"}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    bool changed[64];
    int64_t T;
    changed_positions(cases[i].model, cases[i].input, 2, changed, &T);
    for (int64_t t = 0; t < T; t++)
      if (changed[t] != (t >= 2))
        fail_msg("%s: changing %s at position 2 %s the logits at position %lld (on %s)", cases[i].model,
                 cases[i].input, changed[t] ? "changed" : "did not change", (long long)t, gc_test_backend());
  }
}

static void test_bert_sees_both_ways(void **state) {
  (void)state;
  bool changed[64];
  int64_t T;
  changed_positions("bert_tiny", "input_ids", 2, changed, &T);
  for (int64_t t = 0; t < T; t++)
    if (!changed[t]) fail_msg("bert_tiny: changing the token at 2 left position %lld unchanged", (long long)t);
}

/* ---- finite differences of the whole model ------------------------------ */

/* One model per cmocka test (its name the test's state), so that a failure
 * in one leaves the others checked. */
static void test_whole_model_gradcheck(void **state) {
  const char *model = *state;
  for (size_t m = 0; m < sizeof tiny / sizeof *tiny; m++) {
    if (strcmp(tiny[m], model)) continue;
    gc_model_config c;
    gc_init_table *inits;
    gc_graph *g = build(tiny[m], "dtype=f64", CB, CT, CTD, &c, &inits);
    gc_tensor_map params, inputs;
    gc_tensor_map_init(&params);
    gc_tensor_map_init(&inputs);
    feed(&c, g, inits, &params, &inputs, 3);
    /* every param (every kind: embeddings, norms, projections, biases,
     * position tables), a sample of its elements */
    gc_gradcheck_opts o = {.what = tiny[m], .max_samples = 2, .tol = 1e-6, .check_nan = true};
    double worst = gc_gradcheck(g, "loss", &params, &inputs, &o);
    printf("%s: whole-model gradcheck, worst relative error %.3g\n", tiny[m], worst);
    gc_tensor_map_clear(&params);
    gc_tensor_map_clear(&inputs);
    gc_init_table_free(inits);
    gc_graph_free(g);
    gc_model_config_free(&c);
  }
}

/* ---- the backend under test against the interpreter ---------------------- */

/* Loss, logits and every gradient of each tiny model on the backend under
 * test against the interpreter's: each tensor within 1e-12 (f64) or 1e-5
 * (f32) of the interpreter's, relative to its largest element (at least
 * FLOOR times the model's largest gradient element, so a gradient that is
 * zero in theory, BERT's key biases, is judged on the scale of the sums
 * it came from). */
static void check_against_interp(const char *model, const char *dtype, double tol) {
  enum { FLOOR_OF_MAX = 1000 };
  gc_diag d;
  gc_model_config c;
  gc_init_table *inits;
  char set[32];
  snprintf(set, sizeof set, "dtype=%s", dtype);
  gc_graph *g = build(model, set, CB, CT, CTD, &c, &inits);
  if (gc_grad_outputs(g, "loss", &d)) fail_msg("%s: %s", model, d.msg);
  gc_tensor_map params, inputs, want, got;
  gc_tensor_map_init(&params);
  gc_tensor_map_init(&inputs);
  gc_tensor_map_init(&want);
  gc_tensor_map_init(&got);
  feed(&c, g, inits, &params, &inputs, 3);
  if (gc_interp_run(g, &params, &inputs, &want, &d)) fail_msg("%s on interp: %s", model, d.msg);
  if (gc_test_run(g, &params, &inputs, &got, &d)) fail_msg("%s on %s: %s", model, gc_test_backend(), d.msg);
  double grad_max = 0;
  for (int i = 0; i < want.n; i++)
    if (strncmp(want.names[i], "grad.", 5) == 0)
      for (int64_t k = 0; k < gc_tensor_numel(want.tensors[i]); k++)
        grad_max = fmax(grad_max, fabs(gc_tensor_load(want.tensors[i], k)));
  double worst = 0;
  const char *worst_name = "";
  for (int i = 0; i < want.n; i++) {
    char what[300];
    snprintf(what, sizeof what, "%s %s on %s: %s", model, dtype, gc_test_backend(), want.names[i]);
    bool grad = strncmp(want.names[i], "grad.", 5) == 0;
    double e = gc_test_expect_close(what, gc_tensor_map_get(&got, want.names[i]), want.tensors[i], tol,
                                    grad ? grad_max / FLOOR_OF_MAX : 1e-300);
    if (e > worst) worst = e, worst_name = want.names[i];
  }
  printf("%s %s: %d tensors (loss, logits, every gradient) on %s within %.3g of interp (worst %s)\n", model,
         dtype, want.n, gc_test_backend(), worst, worst_name);
  gc_tensor_map_clear(&params);
  gc_tensor_map_clear(&inputs);
  gc_tensor_map_clear(&want);
  gc_tensor_map_clear(&got);
  gc_init_table_free(inits);
  gc_graph_free(g);
  gc_model_config_free(&c);
}

static void test_agrees_with_interp(void **state) {
  if (gc_test_on_interp()) skip();   /* the oracle against itself */
  check_against_interp(*state, "f64", 1e-12);
  check_against_interp(*state, "f32", 1e-5);
}

/* ---- configs ----------------------------------------------------------- */

static void test_config_errors(void **state) {
  (void)state;
  gc_model_config c;
  gc_diag d;
  assert_int_equal(gc_model_config_init(&c, "qwen3", &d), -1);
  assert_non_null(strstr(d.msg, "qwen2_tiny"));
  assert_int_equal(gc_model_config_init(&c, "qwen2_tiny", &d), 0);
  assert_int_equal(gc_model_config_set(&c, "num_key_value_heads=3", &d), 0);
  assert_int_equal(gc_model_config_validate(&c, &d), -1);
  assert_non_null(strstr(d.msg, "num_key_value_heads"));
  assert_int_equal(gc_model_config_set(&c, "hidden_sizes=3", &d), -1);
  assert_non_null(strstr(d.msg, "valid keys"));
  assert_int_equal(gc_model_config_set(&c, "tie_word_embeddings=maybe", &d), -1);
  assert_int_equal(gc_model_config_set(&c, "dtype=f16", &d), -1);
  gc_model_config_free(&c);
  assert_int_equal(gc_model_config_init(&c, "t5_tiny", &d), 0);
  assert_int_equal(gc_model_config_set(&c, "feed_forward_proj=gated-gelu", &d), 0);
  assert_int_equal(gc_model_config_set(&c, "feed_forward_proj=swiglu", &d), -1);
  gc_model_config_free(&c);
}

/* tie_word_embeddings=false adds the head; true shares one param. */
static void test_tying_keys(void **state) {
  (void)state;
  gc_model_config c;
  gc_graph *g = build("qwen2_tiny", "tie_word_embeddings=true", 1, 4, 4, &c, NULL);
  assert_int_equal(gc_graph_find_param(g, "lm_head.weight"), -1);
  gc_graph_free(g);
  gc_model_config_free(&c);
  g = build("gpt2_tiny", "tie_word_embeddings=false", 1, 4, 4, &c, NULL);
  assert_true(gc_graph_find_param(g, "lm_head.weight") >= 0);
  gc_graph_free(g);
  gc_model_config_free(&c);
  g = build("t5_tiny", "feed_forward_proj=gated-gelu,tie_word_embeddings=false", 1, 4, 4, &c, NULL);
  assert_true(gc_graph_find_param(g, "encoder.block.0.layer.1.DenseReluDense.wi_0.weight") >= 0);
  assert_true(gc_graph_find_param(g, "lm_head.weight") >= 0);
  gc_graph_free(g);
  gc_model_config_free(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_real_preset_counts),
      cmocka_unit_test(test_initial_loss_near_ln_vocab),
      cmocka_unit_test(test_bert_init_zeroes_the_padding_row),
      cmocka_unit_test(test_causal_models_do_not_see_the_future),
      cmocka_unit_test(test_bert_sees_both_ways),
#define PER_MODEL(test)                                                                                    \
  cmocka_unit_test_prestate(test, (void *)"qwen2_tiny"), cmocka_unit_test_prestate(test, (void *)"gpt2_tiny"), \
      cmocka_unit_test_prestate(test, (void *)"bert_tiny"), cmocka_unit_test_prestate(test, (void *)"t5_tiny"), \
      cmocka_unit_test_prestate(test, (void *)"alibi_tiny")
      PER_MODEL(test_whole_model_gradcheck),
      PER_MODEL(test_agrees_with_interp),
      cmocka_unit_test(test_config_errors),
      cmocka_unit_test(test_tying_keys),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
