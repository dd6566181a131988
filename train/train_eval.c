/* gc-train --eval: the loss of a model on a whole file, by the definition
 * in train.h (gc_train_eval_file), computed from the evaluation graph's
 * logits in double. */
#include "train/train.h"
#include "train/chat.h"
#include "io/file.h"
#include "models/model_io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* -log softmax(row)[target], in double. */
static double nll(const gc_tensor *logits, int64_t row, int64_t vocab, int64_t target) {
  int64_t base = row * vocab;
  double mx = -INFINITY, sum = 0;
  if (logits->type.dtype == GC_F32) {
    const float *x = (const float *)logits->data + base;
    for (int64_t i = 0; i < vocab; i++) mx = x[i] > mx ? x[i] : mx;
    for (int64_t i = 0; i < vocab; i++) sum += exp((double)x[i] - mx);
    return mx + log(sum) - x[target];
  }
  for (int64_t i = 0; i < vocab; i++) mx = fmax(mx, gc_tensor_load(logits, base + i));
  for (int64_t i = 0; i < vocab; i++) sum += exp(gc_tensor_load(logits, base + i) - mx);
  return mx + log(sum) - gc_tensor_load(logits, base + target);
}

/* Runs p on x[0..L) (right-padded to T) and adds the nll of each predicted
 * token x[j+1], j < L, that the loss mask (if any) covers. */
static int window(gc_train_run *r, gc_program *p, const int32_t *x, const uint8_t *loss, int64_t T, int64_t L,
                  double *nats, size_t *tokens, gc_diag *d) {
  const gc_tensor *logits = gc_train_logits_of(r, p, x, L, T, d);
  int rc = logits ? 0 : -1;
  int64_t vocab = logits ? logits->type.dims[2] : 0;
  for (int64_t j = 0; rc == 0 && j < L; j++) {
    if (loss && !loss[j + 1]) continue;
    if (x[j + 1] < 0 || x[j + 1] >= vocab)
      rc = gc_diag_set(d, "token id %d is outside the model's vocabulary of %lld", x[j + 1], (long long)vocab);
    else *nats += nll(logits, j, vocab, x[j + 1]), (*tokens)++;
  }
  return rc;
}

/* The file's ids (and chat loss mask) into r->ids, r->loss. */
static int encode_file(gc_train_run *r, const char *path, double *bytes, gc_diag *d) {
  size_t len = 0;
  char *text = gc_read_file(path, &len, d);
  if (!text) return -1;
  int rc = 0;
  *bytes = 0;
  if (gc_chat_is_data(path)) {
    gc_chat_stream s;
    rc = gc_chat_encode(r->tok, path, text, len, &s, d);
    if (rc == 0) r->ids = s.ids, r->loss = s.loss, r->n_ids = s.n;
  } else if (gc_tokenizer_encode(r->tok, (const uint8_t *)text, len, &r->ids, &r->n_ids)) {
    rc = gc_diag_set(d, "cannot encode %s", path);
  } else {
    *bytes = (double)len;
  }
  free(text);
  if (rc == 0 && r->n_ids < 2) rc = gc_diag_set(d, "%s: fewer than two tokens, nothing to predict", path);
  return rc;
}

int gc_train_eval_file(gc_train_run *r, double *nats, size_t *tokens, double *bytes, gc_diag *d) {
  char path[4096];
  int64_t T = r->opts->seq;
  gc_model_shape shape = {.batch = 1, .seq = T};
  if (r->config.family->task != GC_MODEL_CAUSAL_LM)
    return gc_diag_set(d, "--eval: %s is not a causal language model", r->opts->model);
  if (gc_train_data_path(r->opts, path, sizeof path, d)) return -1;
  gc_graph *g = gc_model_build(&r->config, &shape, NULL, d);
  if (!g) return -1;
  gc_compile_options o;
  gc_compile_options_init(&o);
  o.backend = r->opts->backend;
  o.threads = r->opts->threads;
  o.passes = r->opts->passes;
  gc_program *p = NULL;
  int rc = gc_train_open_model(r, g, d);
  if (rc == 0) rc = encode_file(r, path, bytes, d);
  if (rc == 0 && !(p = gc_compile(g, &o, d))) rc = -1;
  if (rc == 0) rc = gc_program_set_params(p, &r->params, true, d);
  *nats = 0;
  *tokens = 0;
  for (size_t k = 0; rc == 0 && k + 1 < r->n_ids; k += (size_t)T) {
    int64_t L = (int64_t)(r->n_ids - 1 - k) < T ? (int64_t)(r->n_ids - 1 - k) : T;
    rc = window(r, p, r->ids + k, r->loss ? r->loss + k : NULL, T, L, nats, tokens, d);
  }
  gc_program_free(p);
  gc_graph_free(g);
  return rc;
}
