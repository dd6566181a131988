/* train/dataset.c — train/validation split and batches (see dataset.h). */
#include "train/dataset.h"

#include <stdlib.h>
#include <string.h>

#define SPAN_NOISE_DENSITY 0.15
#define SPAN_MEAN_LENGTH 3.0
#define MLM_SELECT_PROB 0.15

/* ---- split ------------------------------------------------------------- */

int gc_dataset_split(const int32_t *ids, size_t n, double train_frac,
                     gc_token_span *train, gc_token_span *val, gc_diag *d) {
  if (!(train_frac > 0 && train_frac < 1))
    return gc_diag_set(d, "train fraction %g is not in (0, 1)", train_frac);
  size_t n_train = (size_t)((double)n * train_frac);
  if (n_train > n) n_train = n;
  train->ids = ids;
  train->n = n_train;
  train->loss = NULL;
  val->ids = ids + n_train;
  val->n = n - n_train;
  val->loss = NULL;
  return 0;
}

/* ---- span layout and window length -------------------------------------- */

static int round_half_even(double x) {   /* as numpy's round */
  double f = (double)(long long)x;
  double frac = x - f;
  if (frac > 0.5 || (frac == 0.5 && ((long long)f % 2) != 0)) f += 1;
  return (int)f;
}

gc_span_layout gc_span_layout_of(int len) {
  gc_span_layout lo = {.raw_len = len};
  int noise = round_half_even(len * SPAN_NOISE_DENSITY);
  int nonnoise = len - noise;   /* before the clamp, as HF */
  if (noise < 1) noise = 1;
  if (noise > len - 1) noise = len - 1;
  int smaller = noise < nonnoise ? noise : nonnoise;
  int spans = round_half_even(smaller / SPAN_MEAN_LENGTH);
  if (spans < 1) spans = 1;
  lo.n_noise = noise;
  lo.n_spans = spans;
  lo.input_len = len - noise + spans + 1;
  lo.label_len = noise + spans + 1;
  return lo;
}

static int span_fits(const gc_batch_spec *s, int len) {
  gc_span_layout lo = gc_span_layout_of(len);
  return lo.input_len <= s->seq && lo.label_len <= s->dec_seq;
}

static int span_window_len(const gc_batch_spec *s, gc_diag *d) {
  if (s->dec_seq < 3 || s->seq < 3 || !span_fits(s, 2))
    return gc_diag_set(d, "span corruption needs --seq >= 3 and --dec-seq >= 3 (got %d and %d)",
                       s->seq, s->dec_seq);
  int len = 2;
  while (span_fits(s, len + 1)) len++;
  gc_span_layout lo = gc_span_layout_of(len);
  if (lo.n_spans >= s->vocab)
    return gc_diag_set(d, "span corruption needs %d sentinel ids but the vocabulary has %d ids",
                       lo.n_spans, s->vocab);
  return len;
}

static int check_spec(const gc_batch_spec *s, gc_diag *d) {
  if (s->batch < 1) return gc_diag_set(d, "batch size %d must be >= 1", s->batch);
  if (s->seq < 2) return gc_diag_set(d, "sequence length %d must be >= 2", s->seq);
  if (s->vocab < 0) return gc_diag_set(d, "vocabulary size %d is negative", s->vocab);
  switch (s->task) {
  case GC_TASK_CAUSAL:
    return 0;
  case GC_TASK_MLM:
    if (s->vocab < 1) return gc_diag_set(d, "masked LM batches need the vocabulary size");
    if (s->mask_id < 0 || s->mask_id >= s->vocab)
      return gc_diag_set(d, "mask id %d is outside the vocabulary [0, %d)", s->mask_id, s->vocab);
    if (s->n_special < 0 || (s->n_special > 0 && !s->special_ids))
      return gc_diag_set(d, "bad special id list (%d ids)", s->n_special);
    return 0;
  case GC_TASK_SPAN:
    if (s->vocab < 1) return gc_diag_set(d, "span corruption batches need the vocabulary size");
    if (s->eos_id < 0 || s->eos_id >= s->vocab)
      return gc_diag_set(d, "eos id %d is outside the vocabulary [0, %d)", s->eos_id, s->vocab);
    return 0;
  }
  return gc_diag_set(d, "unknown batch task %d", (int)s->task);
}

int gc_batch_window_len(const gc_batch_spec *s, gc_diag *d) {
  if (check_spec(s, d) < 0) return -1;
  return s->task == GC_TASK_SPAN ? span_window_len(s, d) : s->seq;
}

static int check_data_fits(gc_token_span data, int len, gc_diag *d) {
  if (data.n < (size_t)len)
    return gc_diag_set(d, "the data has %zu tokens, fewer than one window of %d tokens "
                          "(lower --seq or use more data)", data.n, len);
  return 0;
}

static int check_ids(const gc_batch_spec *s, const int32_t *w, int len, size_t offset,
                     gc_diag *d) {
  if (s->vocab <= 0) return 0;
  for (int i = 0; i < len; i++)
    if (w[i] < 0 || w[i] >= s->vocab)
      return gc_diag_set(d, "token id %d at offset %zu is outside the vocabulary [0, %d)",
                         (int)w[i], offset + (size_t)i, s->vocab);
  return 0;
}

/* ---- the batch tensors --------------------------------------------------- */

enum { T_INPUT, T_LABELS, T_ATTN, T_TYPES, T_DEC_INPUT, T_COUNT };
static const char *const tensor_names[T_COUNT] = {
    "input_ids", "labels", "attention_mask", "token_type_ids", "decoder_input_ids"};

typedef struct {
  gc_tensor *t[T_COUNT];   /* NULL where the task has no such tensor */
} batch_tensors;

static void batch_free(batch_tensors *bt) {
  for (int i = 0; i < T_COUNT; i++) gc_tensor_free(bt->t[i]);
}

static int64_t *row(batch_tensors *bt, int which, int b) {
  gc_tensor *t = bt->t[which];
  return (int64_t *)t->data + (int64_t)b * t->type.dims[1];
}

static int batch_alloc(const gc_batch_spec *s, batch_tensors *bt, gc_diag *d) {
  memset(bt, 0, sizeof *bt);
  gc_type in = gc_type_make(GC_I64, 2, (int64_t[]){s->batch, s->seq});
  gc_type dec = gc_type_make(GC_I64, 2, (int64_t[]){s->batch, s->dec_seq});
  int want[T_COUNT] = {1, 1, s->task != GC_TASK_CAUSAL, s->task == GC_TASK_MLM,
                       s->task == GC_TASK_SPAN};
  for (int i = 0; i < T_COUNT; i++) {
    if (!want[i]) continue;
    int decoder_side = s->task == GC_TASK_SPAN && (i == T_LABELS || i == T_DEC_INPUT);
    bt->t[i] = gc_tensor_new(decoder_side ? &dec : &in);
    if (!bt->t[i]) {
      batch_free(bt);
      return gc_diag_set(d, "out of memory for a batch of %d x %d", s->batch, s->seq);
    }
  }
  return 0;
}

static void batch_put(batch_tensors *bt, gc_tensor_map *out) {
  for (int i = 0; i < T_COUNT; i++)
    if (bt->t[i]) gc_tensor_map_put(out, tensor_names[i], bt->t[i]);
}

/* ---- one window per task ------------------------------------------------- */

static void fill_causal(const int32_t *w, const uint8_t *loss, int len, int64_t *input, int64_t *labels) {
  for (int i = 0; i < len; i++) {
    input[i] = w[i];
    labels[i] = loss && !loss[i] ? GC_IGNORE_INDEX : w[i];
  }
}

static int is_special(const gc_batch_spec *s, int32_t id) {
  for (int i = 0; i < s->n_special; i++)
    if (s->special_ids[i] == id) return 1;
  return 0;
}

/* Draws are made for every non-special position in order: one uniform for
 * the selection, and for a selected one a uniform for the 80/10/10 choice
 * and, for the random branch, the random id. */
static void fill_mlm(const gc_batch_spec *s, const int32_t *w, int len, gc_rng *rng,
                     int64_t *input, int64_t *labels, int64_t *attn) {
  for (int i = 0; i < len; i++) {
    input[i] = w[i];
    labels[i] = GC_IGNORE_INDEX;
    attn[i] = 1;
    if (is_special(s, w[i]) || gc_rng_uniform(rng) >= MLM_SELECT_PROB) continue;
    labels[i] = w[i];
    double u = gc_rng_uniform(rng);
    if (u < 0.8) input[i] = s->mask_id;
    else if (u < 0.9) input[i] = (int64_t)gc_rng_below(rng, (uint64_t)s->vocab);
  }
}

/* Splits n_items into n_segments non-empty runs, uniformly over all such
 * splits (HF's _random_segmentation): a shuffled set of n_segments-1 cut
 * points among the n_items-1 gaps.  `cuts` is scratch of n_items bytes. */
static void random_segmentation(gc_rng *rng, int n_items, int n_segments, unsigned char *cuts,
                                int *lens) {
  int gaps = n_items - 1;
  for (int i = 0; i < gaps; i++) cuts[i] = i < n_segments - 1;
  for (int i = gaps - 1; i > 0; i--) {   /* Fisher-Yates */
    int j = (int)gc_rng_below(rng, (uint64_t)i + 1);
    unsigned char t = cuts[i];
    cuts[i] = cuts[j];
    cuts[j] = t;
  }
  int seg = 0;
  lens[0] = 1;
  for (int i = 0; i < gaps; i++) {
    if (cuts[i]) lens[++seg] = 0;
    lens[seg]++;
  }
}

typedef struct {
  unsigned char *cuts;     /* raw_len bytes */
  int *noise_lens, *keep_lens;   /* n_spans each */
} span_scratch;

static void fill_span(const gc_batch_spec *s, const int32_t *w, const gc_span_layout *lo,
                      gc_rng *rng, span_scratch *sc, batch_tensors *bt, int b) {
  int64_t *input = row(bt, T_INPUT, b), *attn = row(bt, T_ATTN, b);
  int64_t *labels = row(bt, T_LABELS, b), *dec = row(bt, T_DEC_INPUT, b);
  random_segmentation(rng, lo->n_noise, lo->n_spans, sc->cuts, sc->noise_lens);
  random_segmentation(rng, lo->raw_len - lo->n_noise, lo->n_spans, sc->cuts, sc->keep_lens);
  int pos = 0, in = 0, lab = 0;
  for (int i = 0; i < lo->n_spans; i++) {
    for (int k = 0; k < sc->keep_lens[i]; k++) input[in++] = w[pos++];
    int64_t sentinel = s->vocab - 1 - i;
    input[in++] = sentinel;
    labels[lab++] = sentinel;
    for (int k = 0; k < sc->noise_lens[i]; k++) labels[lab++] = w[pos++];
  }
  input[in++] = s->eos_id;
  labels[lab++] = s->eos_id;
  for (int i = 0; i < s->seq; i++) attn[i] = i < in;
  for (int i = in; i < s->seq; i++) input[i] = s->pad_id;
  for (int i = lab; i < s->dec_seq; i++) labels[i] = GC_IGNORE_INDEX;
  dec[0] = s->decoder_start_id;
  for (int i = 1; i < s->dec_seq; i++)
    dec[i] = labels[i - 1] == GC_IGNORE_INDEX ? s->pad_id : labels[i - 1];
}

/* ---- batches --------------------------------------------------------------- */

/* Fills the batch for windows at `starts` (each window already known to lie
 * inside data), drawing the task's choices from rng in window order. */
static int build_batch(const gc_batch_spec *s, gc_token_span data, int len,
                       const size_t *starts, gc_rng *rng, gc_tensor_map *out, gc_diag *d) {
  for (int b = 0; b < s->batch; b++)
    if (check_ids(s, data.ids + starts[b], len, starts[b], d) < 0) return -1;
  batch_tensors bt;
  if (batch_alloc(s, &bt, d) < 0) return -1;
  gc_span_layout lo = gc_span_layout_of(len);
  span_scratch sc = {0};
  if (s->task == GC_TASK_SPAN) {
    sc.cuts = malloc((size_t)len);
    sc.noise_lens = malloc(sizeof(int) * (size_t)lo.n_spans);
    sc.keep_lens = malloc(sizeof(int) * (size_t)lo.n_spans);
    if (!sc.cuts || !sc.noise_lens || !sc.keep_lens) {
      free(sc.cuts), free(sc.noise_lens), free(sc.keep_lens);
      batch_free(&bt);
      return gc_diag_set(d, "out of memory for span corruption scratch");
    }
  }
  for (int b = 0; b < s->batch; b++) {
    const int32_t *w = data.ids + starts[b];
    switch (s->task) {
    case GC_TASK_CAUSAL:
      fill_causal(w, data.loss ? data.loss + starts[b] : NULL, len, row(&bt, T_INPUT, b), row(&bt, T_LABELS, b));
      break;
    case GC_TASK_MLM:
      fill_mlm(s, w, len, rng, row(&bt, T_INPUT, b), row(&bt, T_LABELS, b), row(&bt, T_ATTN, b));
      break;
    case GC_TASK_SPAN:
      fill_span(s, w, &lo, rng, &sc, &bt, b);
      break;
    }
  }
  free(sc.cuts), free(sc.noise_lens), free(sc.keep_lens);
  batch_put(&bt, out);
  return 0;
}

/* Window length after validating the spec and that data holds a window. */
static int window_for(const gc_batch_spec *s, gc_token_span data, gc_diag *d) {
  int len = gc_batch_window_len(s, d);
  if (len < 0 || check_data_fits(data, len, d) < 0) return -1;
  return len;
}

int gc_batch_sample(const gc_batch_spec *s, gc_token_span data, gc_rng *rng,
                    gc_tensor_map *out, gc_diag *d) {
  int len = window_for(s, data, d);
  if (len < 0) return -1;
  size_t *starts = malloc(sizeof(size_t) * (size_t)s->batch);
  if (!starts) return gc_diag_set(d, "out of memory");
  uint64_t n_starts = (uint64_t)(data.n - (size_t)len) + 1;
  for (int b = 0; b < s->batch; b++) starts[b] = (size_t)gc_rng_below(rng, n_starts);
  int rc = build_batch(s, data, len, starts, rng, out, d);
  free(starts);
  return rc;
}

static int check_eval_index(int k, int n_batches, int b, int batch, gc_diag *d) {
  if (n_batches < 1 || k < 0 || k >= n_batches)
    return gc_diag_set(d, "validation batch %d of %d does not exist", k, n_batches);
  if (b < 0 || b >= batch)
    return gc_diag_set(d, "window %d of a batch of %d does not exist", b, batch);
  return 0;
}

/* Window j of `total` evenly spaced windows of len tokens in n tokens. */
static size_t even_start(size_t n, int len, uint64_t j, uint64_t total) {
  if (total <= 1) return 0;
  unsigned __int128 span = (unsigned __int128)(n - (size_t)len) * j;
  return (size_t)(span / (total - 1));
}

int64_t gc_batch_eval_start(const gc_batch_spec *s, gc_token_span data, int k,
                            int n_batches, int b, gc_diag *d) {
  int len = window_for(s, data, d);
  if (len < 0 || check_eval_index(k, n_batches, b, s->batch, d) < 0) return -1;
  uint64_t total = (uint64_t)n_batches * (uint64_t)s->batch;
  uint64_t j = (uint64_t)k * (uint64_t)s->batch + (uint64_t)b;
  return (int64_t)even_start(data.n, len, j, total);
}

int gc_batch_eval(const gc_batch_spec *s, gc_token_span data, int k, int n_batches,
                  gc_tensor_map *out, gc_diag *d) {
  int len = window_for(s, data, d);
  if (len < 0 || check_eval_index(k, n_batches, 0, s->batch, d) < 0) return -1;
  size_t *starts = malloc(sizeof(size_t) * (size_t)s->batch);
  if (!starts) return gc_diag_set(d, "out of memory");
  uint64_t total = (uint64_t)n_batches * (uint64_t)s->batch;
  for (int b = 0; b < s->batch; b++)
    starts[b] = even_start(data.n, len, (uint64_t)k * (uint64_t)s->batch + (uint64_t)b, total);
  gc_rng rng;
  gc_rng_seed(&rng, GC_EVAL_SEED + (uint64_t)k);
  int rc = build_batch(s, data, len, starts, &rng, out, d);
  free(starts);
  return rc;
}

int gc_batch_eval_count(const gc_batch_spec *s, gc_token_span data, gc_diag *d) {
  int len = window_for(s, data, d);
  if (len < 0) return -1;
  size_t n = data.n / (size_t)len / (size_t)s->batch;
  if (n < 1) n = 1;
  if (n > 1000000) n = 1000000;
  return (int)n;
}
