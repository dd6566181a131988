/* gc-train's sampling for causal models: with the KV cache of
 * models/decode.h (gc_generate) when the family has generation graphs and
 * prompt + max_new fit its positions; otherwise by full recomputation, each
 * new token running the model (batch 1, the training length) over the last
 * tokens, right-padded (causal attention never looks at the padding).  Both
 * draw with train/sample.h (greedy at temperature 0, else top-p). */
#include "train/train.h"
#include "train/chat.h"
#include "train/sample.h"
#include "train/generate.h"
#include "models/model_io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const gc_tensor *gc_train_logits_of(gc_train_run *r, gc_program *p, const int32_t *ids, int64_t len, int64_t seq,
                                    gc_diag *d) {
  int64_t dims[2] = {1, seq};
  gc_type t = gc_type_make(GC_I64, 2, dims);
  gc_tensor *input = gc_tensor_new(&t), *labels = gc_tensor_new(&t);
  if (!input || !labels) {
    gc_tensor_free(input), gc_tensor_free(labels);
    gc_diag_set(d, "out of memory");
    return NULL;
  }
  for (int64_t i = 0; i < len; i++) ((int64_t *)input->data)[i] = ((int64_t *)labels->data)[i] = ids[i];
  gc_tensor_map inputs;
  gc_tensor_map_init(&inputs);
  gc_tensor_map_put(&inputs, "input_ids", input);
  gc_tensor_map_put(&inputs, "labels", labels);
  int rc = gc_model_complete_inputs(&r->config, gc_program_graph(p), &inputs, NULL, d);
  if (rc == 0) rc = gc_program_feed(p, &inputs, d);
  if (rc == 0) rc = gc_program_run(p, d);
  gc_tensor_map_clear(&inputs);
  const gc_tensor *logits = rc == 0 ? gc_program_output(p, "logits") : NULL;
  if (rc == 0 && !logits) gc_diag_set(d, "the model has no output \"logits\"");
  return logits;
}

/* Logits at position len - 1 of a run of p over ids[0..len) (len <= seq). */
static int next_logits(gc_train_run *r, gc_program *p, const int32_t *ids, int len, int seq, double *logits,
                       int vocab, gc_diag *d) {
  const gc_tensor *l = gc_train_logits_of(r, p, ids, len, seq, d);
  if (!l) return -1;
  for (int i = 0; i < vocab; i++) logits[i] = gc_tensor_load(l, (int64_t)(len - 1) * vocab + i);
  return 0;
}

static void put_token(const gc_tokenizer *tok, int id) {
  size_t n = 0;
  const uint8_t *bytes = gc_tokenizer_token_bytes(tok, id, &n);
  if (bytes) fwrite(bytes, 1, n, stdout);
  fflush(stdout);
}

/* Recomputation over a sliding window of the last `seq` tokens; the tokens
 * generated go to ids[len...], *n_new counts them. */
static int recompute(gc_train_run *r, const gc_graph *g, int seq, int32_t *ids, int len, int max_new,
                     double temperature, double top_p, uint64_t seed, int *n_new, gc_diag *d) {
  int vocab = (int)r->config.family->vocab_size(r->config.config);
  int usable = gc_tokenizer_vocab_size(r->tok) < vocab ? gc_tokenizer_vocab_size(r->tok) : vocab;
  double *logits = malloc((size_t)vocab * sizeof *logits);
  gc_rng rng;
  gc_rng_seed(&rng, seed);
  int rc = logits ? 0 : gc_diag_set(d, "out of memory");
  gc_compile_options o;
  gc_compile_options_init(&o);
  o.backend = r->opts->backend;
  o.threads = r->opts->threads;
  o.passes = r->opts->passes;
  gc_program *p = rc == 0 ? gc_compile(g, &o, d) : NULL;
  if (!p || gc_program_set_params(p, &r->params, true, d)) rc = -1;
  for (int i = 0; i < max_new && rc == 0; i++) {
    int start = len > seq ? len - seq : 0;
    rc = next_logits(r, p, ids + start, len - start, seq, logits, vocab, d);
    int64_t id = rc == 0 ? gc_sample(logits, usable, temperature, top_p, &rng, d) : -1;
    if (id < 0) rc = -1;
    if (rc == 0) ids[len++] = (int32_t)id, ++*n_new;
    if (rc == 0 && id == r->eos_id) break;
    if (rc == 0) put_token(r->tok, (int)id);
  }
  gc_program_free(p);
  free(logits);
  return rc;
}

/* One line on stderr, after the text: how fast the prompt was read and the
 * new tokens were made (each decode step feeds the token before it). */
static void print_speed(const gc_generate_stats *st) {
  fflush(stdout);
  fprintf(stderr, "generate: prompt_tokens=%lld prefill_tok_s=%.1f new_tokens=%lld decode_tok_s=%.1f\n",
          (long long)st->prompt_tokens, st->prefill_seconds > 0 ? (double)st->prompt_tokens / st->prefill_seconds : 0,
          (long long)st->new_tokens, st->decode_seconds > 0 ? (double)st->decode_steps / st->decode_seconds : 0);
}

/* With the KV cache, the tokens generated to ids[len...] (*n_new of them);
 * 1 when the family or the length does not allow it. */
static int cached(gc_train_run *r, int32_t *ids, int len, int max_new, double temperature, double top_p,
                  uint64_t seed, int *n_new, gc_generate_stats *st) {
  if (!gc_decode_supported(&r->config)) return 1;
  int64_t *prompt = malloc((size_t)len * sizeof *prompt), *out = malloc(((size_t)max_new + 1) * sizeof *out);
  gc_compile_options co;   /* the run's backend, threads and passes, as recompute's */
  gc_compile_options_init(&co);
  co.backend = r->opts->backend;
  co.threads = r->opts->threads;
  co.passes = r->opts->passes;
  /* the weights loaded for this alone (not a training run's) move into the
   * decoder: a large model is not held twice */
  gc_generate_opts o = {.max_new = max_new, .temperature = temperature, .top_p = top_p, .seed = seed,
                        .eos_id = r->eos_id, .stats = st, .take_weights = !r->train_prog, .compile = &co};
  int64_t n = -1;
  gc_diag d = {0};
  if (prompt && out) {
    for (int i = 0; i < len; i++) prompt[i] = ids[i];
    n = gc_generate(&r->config, &r->params, prompt, len, &o, out, &d);
  }
  for (int64_t i = 0; i < n; i++) {
    ids[len + i] = (int32_t)out[i];
    if (out[i] != r->eos_id) put_token(r->tok, (int)out[i]);
  }
  *n_new = n < 0 ? 0 : (int)n;
  free(prompt);
  free(out);
  return n < 0 ? 1 : 0;
}

int gc_train_sample(gc_train_run *r, const char *prompt, int max_new, double temperature, double top_p,
                    uint64_t seed, gc_diag *d) {
  if (r->config.family->task != GC_MODEL_CAUSAL_LM)
    return gc_diag_set(d, "%s is not a causal language model: it cannot generate text", r->opts->model);
  int seq = r->opts->seq;
  gc_model_shape shape = {.batch = 1, .seq = seq};
  gc_graph *g = gc_model_build(&r->config, &shape, NULL, d);
  if (!g) return -1;
  int rc = 0;
  if (r->train_prog) rc = gc_program_get_params(r->train_prog, &r->params, d);   /* the trained weights */
  else if (r->params.n == 0) rc = gc_train_open_model(r, g, d);
  int32_t *prompt_ids = NULL, *ids = NULL;
  size_t n = 0;
  if (rc == 0 && r->opts->chat) rc = gc_chat_prompt(r->tok, prompt, &prompt_ids, &n, d);
  else if (rc == 0 && gc_tokenizer_encode(r->tok, (const uint8_t *)prompt, strlen(prompt), &prompt_ids, &n))
    rc = gc_diag_set(d, "out of memory");
  if (rc == 0 && !(ids = malloc((n + 1 + (size_t)max_new) * sizeof *ids))) rc = gc_diag_set(d, "out of memory");
  int n_new = 0;
  if (rc == 0) {
    if (n) memcpy(ids, prompt_ids, n * sizeof *ids);
    int eot = gc_tokenizer_special_id(r->tok, "<|endoftext|>");
    if (n == 0) ids[n++] = eot >= 0 ? eot : '\n';
    fputs(prompt, stdout);
    gc_generate_stats st = {0};
    bool with_cache = cached(r, ids, (int)n, max_new, temperature, top_p, seed, &n_new, &st) == 0;
    if (!with_cache)
      rc = recompute(r, g, seq, ids, (int)n, max_new, temperature, top_p, seed, &n_new, d);
    fputc('\n', stdout);
    if (with_cache) print_speed(&st);   /* after the text's last line */
  }
  if (rc == 0 && r->opts->ids) {   /* the generated ids, as one JSON array on the last line */
    fputc('[', stdout);
    for (int i = 0; i < n_new; i++) printf(i ? ", %d" : "%d", ids[n + (size_t)i]);
    fputs("]\n", stdout);
  }
  free(prompt_ids);
  free(ids);
  gc_graph_free(g);
  return rc;
}
