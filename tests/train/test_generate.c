/* Generation: the KV-cache prefill/decode graphs against full recomputation
 * with the training graph (tokens and logits at every step, f32 and f64),
 * and the sampler (greedy, temperature, top-p by hand, seeded determinism).
 * The full recomputation runs on the backend under test
 * (tests/backend_param.h), compiled once per model; gc_decoder and
 * gc_generate compile for the default backend (gc_compile's), so on another
 * backend the cached decoder is checked against that backend's full forward.
 * gc-test: every backend */
#include "tests/testutil.h"
#include "tests/backend_param.h"

#include "backends/interp/interp.h"
#include "train/sample.h"
#include "train/generate.h"

#include <stdlib.h>
#include <string.h>

enum { P = 5, NEW = 12, L = P + NEW };

/* A model with random weights (the training graph's init rules) and its
 * training graph for length L, the reference. */
typedef struct {
  gc_model_config c;
  gc_graph *full;
  gc_program *prog;     /* full, compiled once for the backend under test */
  gc_tensor_map params;
  int64_t vocab;
} model;

static void model_init(model *m, const char *name, const char *dtype) {
  gc_diag d = {0};
  assert_int_equal(gc_model_config_init(&m->c, name, &d), 0);
  assert_int_equal(gc_model_config_set_one(&m->c, "dtype", dtype, &d), 0);
  gc_init_table *inits = NULL;
  gc_model_shape shape = {.batch = 1, .seq = L};
  m->full = gc_model_build(&m->c, &shape, &inits, &d);
  if (!m->full) fail_msg("%s", d.msg);
  gc_tensor_map_init(&m->params);
  assert_int_equal(gc_init_params(m->full, inits, 1234, &m->params, &d), 0);
  gc_init_table_free(inits);
  m->vocab = m->c.family->vocab_size(m->c.config);
  m->prog = NULL;
}

static void model_free(model *m) {
  gc_program_free(m->prog);
  gc_tensor_map_clear(&m->params);
  gc_graph_free(m->full);
  gc_model_config_free(&m->c);
}

static gc_tensor *i64_tensor(const int64_t *v, int64_t n) {
  gc_type t = gc_type_make(GC_I64, 2, (const int64_t[]){1, n});
  gc_tensor *x = gc_tensor_new(&t);
  memcpy(x->data, v, (size_t)n * sizeof *v);
  return x;
}

/* Logits at position `at` of the training graph over ids[0..L) (causal: the
 * ids after `at` do not matter). */
static void full_logits(model *m, const int64_t *ids, int64_t at, double *logits) {
  int64_t zeros[L] = {0}, ones[L];
  for (int i = 0; i < L; i++) ones[i] = 1;
  gc_tensor_map in;
  gc_tensor_map_init(&in);
  gc_tensor_map_put(&in, "input_ids", i64_tensor(ids, L));
  gc_tensor_map_put(&in, "labels", i64_tensor(zeros, L));
  gc_tensor_map_put(&in, "attention_mask", i64_tensor(ones, L));
  gc_diag d = {0};
  if (!m->prog) m->prog = gc_test_compile(m->full, &m->params, &in);
  else if (gc_program_feed(m->prog, &in, &d)) fail_msg("%s", d.msg);
  gc_test_rerun(m->prog, NULL);
  const gc_tensor *t = gc_test_output(m->prog, "logits");
  for (int64_t i = 0; i < m->vocab; i++) logits[i] = gc_tensor_load(t, at * m->vocab + i);
  gc_tensor_map_clear(&in);
}

static const int64_t prompt[P] = {3, 141, 59, 26, 500};

/* The reference loop: every token from a full forward, sampled with a
 * generator seeded as gc_generate seeds it. */
static void reference_generate(model *m, double temperature, double top_p, uint64_t seed, int64_t *out) {
  int64_t ids[L] = {0};
  memcpy(ids, prompt, sizeof prompt);
  double *logits = malloc((size_t)m->vocab * sizeof *logits);
  gc_rng rng;
  gc_rng_seed(&rng, seed);
  for (int s = 0; s < NEW; s++) {
    full_logits(m, ids, P - 1 + s, logits);
    out[s] = ids[P + s] = gc_sample(logits, m->vocab, temperature, top_p, &rng, NULL);
    assert_true(out[s] >= 0 && out[s] < m->vocab);
  }
  free(logits);
}

static int64_t generate(model *m, double temperature, double top_p, uint64_t seed, int64_t *out) {
  gc_generate_opts o = {.max_new = NEW, .temperature = temperature, .top_p = top_p, .seed = seed, .eos_id = -1};
  gc_diag d = {0};
  int64_t n = gc_generate(&m->c, &m->params, prompt, P, &o, out, &d);
  if (n < 0) fail_msg("%s", d.msg);
  return n;
}

/* Greedy with the cache = greedy by full recomputation; the decoder's logits
 * at every step match the full forward's row; sampling matches too. */
static void check_model(const char *name, const char *dtype, double tol) {
  model m;
  model_init(&m, name, dtype);
  int64_t want[NEW], got[NEW];
  reference_generate(&m, 0, 1, 0, want);
  assert_int_equal(generate(&m, 0, 1, 0, got), NEW);
  for (int i = 0; i < NEW; i++) assert_int_equal(got[i], want[i]);
  /* eos stops after its first occurrence */
  int first = 0;
  while (want[first] != want[3]) first++;
  gc_generate_opts eos = {.max_new = NEW, .top_p = 1, .eos_id = want[3]};
  gc_diag d = {0};
  assert_int_equal(gc_generate(&m.c, &m.params, prompt, P, &eos, got, &d), first + 1);

  /* step by step: prefill, then the greedy tokens */
  gc_decoder *s = gc_decoder_new(&m.c, &m.params, L, &d);
  if (!s) fail_msg("%s", d.msg);
  assert_int_equal(gc_decoder_vocab(s), m.vocab);
  int64_t ids[L] = {0};
  memcpy(ids, prompt, sizeof prompt);
  memcpy(ids + P, want, sizeof want);
  double *a = malloc((size_t)m.vocab * sizeof *a), *b = malloc((size_t)m.vocab * sizeof *b);
  if (gc_decoder_prefill(s, prompt, P, a, &d)) fail_msg("%s", d.msg);
  for (int64_t t = P - 1; t < L; t++) {
    if (t >= P && gc_decoder_step(s, ids[t], a, &d)) fail_msg("%s", d.msg);
    assert_int_equal(gc_decoder_position(s), t + 1);
    full_logits(&m, ids, t, b);
    double spread = 0;
    for (int64_t i = 0; i < m.vocab; i++) {
      assert_close(a[i], b[i], tol);
      spread = fmax(spread, fabs(b[i] - b[0]));
    }
    assert_true(spread > 1e-3);   /* the logits are not all alike */
  }
  /* the cache is full now */
  assert_int_equal(gc_decoder_step(s, 1, a, &d), -1);
  assert_non_null(strstr(d.msg, "positions"));
  gc_decoder_free(s);
  free(a);
  free(b);

  /* sampling: the same draws as the reference loop, and a seed's own */
  reference_generate(&m, 0.8, 0.9, 77, want);
  assert_int_equal(generate(&m, 0.8, 0.9, 77, got), NEW);
  for (int i = 0; i < NEW; i++) assert_int_equal(got[i], want[i]);
  int64_t again[NEW], other[NEW];
  generate(&m, 0.8, 0.9, 77, again);
  generate(&m, 0.8, 0.9, 78, other);
  assert_memory_equal(again, got, sizeof got);
  assert_memory_not_equal(other, got, sizeof got);

  /* taking the weights: the same tokens, and the map holds none of them */
  gc_generate_opts take = {.max_new = NEW, .temperature = 0.8, .top_p = 0.9, .seed = 77, .eos_id = -1,
                           .take_weights = true};
  int n_weights = m.params.n;
  assert_int_equal(gc_generate(&m.c, &m.params, prompt, P, &take, again, &d), NEW);
  assert_memory_equal(again, got, sizeof got);
  assert_true(n_weights > 0);
  assert_int_equal(m.params.n, 0);
  model_free(&m);
}

static void test_qwen2_f32(void **st) { (void)st; check_model("qwen2_tiny", "f32", 1e-5); }
static void test_qwen2_f64(void **st) { (void)st; check_model("qwen2_tiny", "f64", 1e-12); }
static void test_gpt2_f32(void **st) { (void)st; check_model("gpt2_tiny", "f32", 1e-5); }
static void test_gpt2_f64(void **st) { (void)st; check_model("gpt2_tiny", "f64", 1e-12); }

/* The graphs' interface: inputs, outputs, cache params and updates. */
static void test_graph_interface(void **st) {
  (void)st;
  gc_model_config c;
  gc_diag d = {0};
  assert_int_equal(gc_model_config_init(&c, "qwen2_tiny", &d), 0);   /* 4 layers, 2 kv heads, D 32 */
  gc_graph *pre = gc_decode_build_prefill(&c, 3, 10, &d), *dec = gc_decode_build_step(&c, 10, &d);
  assert_non_null(pre);
  assert_non_null(dec);
  gc_type want = gc_type_make(GC_F32, 4, (const int64_t[]){1, 2, 10, 32});
  for (int l = 0; l < 4; l++)
    for (int w = 0; w < 2; w++) {
      char name[32];
      snprintf(name, sizeof name, "cache.%d.%s", l, w ? "v" : "k");
      for (int gi = 0; gi < 2; gi++) {
        gc_graph *g = gi ? dec : pre;
        int p = gc_graph_find_param(g, name);
        assert_true(p >= 0);
        assert_true(gc_type_equal(&g->nodes[p]->type, &want));
      }
    }
  /* the 4 query heads read their kv head's cache in place: no copy of it
   * repeated for them, as [1, 4, 10, 32] or [1, 2, 2, 10, 32] */
  gc_type repeated = gc_type_make(GC_F32, 4, (const int64_t[]){1, 4, 10, 32});
  gc_type grouped = gc_type_make(GC_F32, 5, (const int64_t[]){1, 2, 2, 10, 32});
  for (int i = 0; i < dec->n_nodes; i++)
    assert_false(gc_type_equal(&dec->nodes[i]->type, &repeated) || gc_type_equal(&dec->nodes[i]->type, &grouped));
  assert_int_equal(pre->n_updates, 8);
  assert_int_equal(dec->n_updates, 8);
  assert_true(gc_graph_find_input(pre, "input_ids") >= 0);
  assert_true(gc_graph_find_input(pre, "position") < 0);
  assert_int_equal(dec->nodes[gc_graph_find_input(dec, "position")]->type.rank, 0);
  gc_type logits = gc_type_make(GC_F32, 2, (const int64_t[]){1, 512});
  assert_true(gc_type_equal(&dec->nodes[gc_graph_find_output(dec, "logits")]->type, &logits));
  assert_true(gc_type_equal(&pre->nodes[gc_graph_find_output(pre, "logits")]->type, &logits));
  gc_graph_free(pre);
  gc_graph_free(dec);

  /* too long for the positions, empty prompt, an unsupported family */
  assert_null(gc_decode_build_step(&c, 257, &d));
  assert_non_null(strstr(d.msg, "256 positions"));
  assert_null(gc_decode_build_prefill(&c, 0, 10, &d));
  /* gc_generate: past the positions; a missing weight is named */
  gc_tensor_map none;
  gc_tensor_map_init(&none);
  int64_t out[300];
  gc_generate_opts o = {.max_new = 253, .top_p = 1, .eos_id = -1};
  assert_int_equal(gc_generate(&c, &none, prompt, P, &o, out, &d), -1);
  assert_non_null(strstr(d.msg, "256 positions"));
  o.max_new = 2;
  assert_int_equal(gc_generate(&c, &none, prompt, P, &o, out, &d), -1);
  assert_non_null(strstr(d.msg, "model.embed_tokens.weight"));
  o.temperature = 1, o.top_p = 0;
  assert_int_equal(gc_generate(&c, &none, prompt, P, &o, out, &d), -1);
  assert_non_null(strstr(d.msg, "top_p"));
  gc_model_config_free(&c);
  assert_int_equal(gc_model_config_init(&c, "bert_tiny", &d), 0);
  assert_false(gc_decode_supported(&c));
  assert_null(gc_decode_build_step(&c, 10, &d));
  assert_non_null(strstr(d.msg, "qwen2, gpt2"));
  gc_model_config_free(&c);
}

/* ---- the sampler ------------------------------------------------------- */

static void test_greedy(void **st) {
  (void)st;
  gc_rng r, r0;
  gc_rng_seed(&r, 5);
  r0 = r;
  const double l[5] = {0.5, 2.0, -1.0, 2.0, 1.9};
  assert_int_equal(gc_argmax_f64(l, 5), 1);   /* the first of the two maxima */
  assert_int_equal(gc_sample(l, 5, 0.0, 0.3, &r, NULL), 1);
  assert_memory_equal(&r, &r0, sizeof r);     /* greedy draws nothing */
}

static void test_temperature(void **st) {
  (void)st;
  const double l[2] = {0.0, log(2.0)};
  double p[2];
  gc_softmax_temperature(l, 2, 1.0, p);        /* 1 : 2 */
  assert_close(p[0], 1.0 / 3, 1e-15);
  assert_close(p[1], 2.0 / 3, 1e-15);
  gc_softmax_temperature(l, 2, 0.5, p);        /* 1 : 4 */
  assert_close(p[0], 0.2, 1e-15);
  assert_close(p[1], 0.8, 1e-15);
  gc_softmax_temperature(l, 2, 2.0, p);        /* 1 : sqrt 2 */
  assert_close(p[0], 1 / (1 + sqrt(2.0)), 1e-15);
}

static void test_top_p_keep(void **st) {
  (void)st;
  const double p[4] = {0.125, 0.5, 0.25, 0.125};   /* sorted: 1, 2, 0, 3 (0 before 3: ties by index) */
  int64_t order[4];
  const double top[6] = {0.4, 0.5, 0.6, 0.75, 0.8, 1.0};
  const int64_t keep[6] = {1, 1, 2, 2, 3, 4};
  for (int i = 0; i < 6; i++) assert_int_equal(gc_top_p_keep(p, 4, top[i], order), keep[i]);
  const int64_t want[4] = {1, 2, 0, 3};
  assert_memory_equal(order, want, sizeof want);
}

/* probs 1/8, 1/2, 1/4, 1/8 with top_p 0.6: tokens 1 and 2 renormalised to
 * 2/3 and 1/3; each draw is token 1 exactly when u * 3/4 < 1/2. */
static void test_top_p_sample(void **st) {
  (void)st;
  const double l[4] = {log(0.125), log(0.5), log(0.25), log(0.125)};
  gc_rng r, mirror;
  gc_rng_seed(&r, 42);
  gc_rng_seed(&mirror, 42);
  int counts[4] = {0};
  for (int i = 0; i < 3000; i++) {
    int64_t t = gc_sample(l, 4, 1.0, 0.6, &r, NULL);
    double u = gc_rng_uniform(&mirror);
    assert_int_equal(t, u * 0.75 < 0.5 ? 1 : 2);
    counts[t]++;
  }
  assert_int_equal(counts[0] + counts[3], 0);
  assert_true(abs(counts[1] - 2000) < 100);   /* 2/3 of 3000, sd ~26 */
  /* top_p 1 at a high temperature reaches every token */
  int seen[4] = {0};
  for (int i = 0; i < 200; i++) seen[gc_sample(l, 4, 5.0, 1.0, &r, NULL)] = 1;
  assert_int_equal(seen[0] + seen[1] + seen[2] + seen[3], 4);
  gc_diag d = {0};
  assert_int_equal(gc_sample(l, 4, 1.0, 0.0, &r, &d), -1);
  assert_int_equal(gc_sample(l, 4, 1.0, 1.5, &r, &d), -1);
  assert_non_null(strstr(d.msg, "top_p"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_greedy),          cmocka_unit_test(test_temperature),
      cmocka_unit_test(test_top_p_keep),      cmocka_unit_test(test_top_p_sample),
      cmocka_unit_test(test_graph_interface), cmocka_unit_test(test_qwen2_f32),
      cmocka_unit_test(test_qwen2_f64),       cmocka_unit_test(test_gpt2_f32),
      cmocka_unit_test(test_gpt2_f64),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
