/* train/dataset.h — training data from a token stream: the train /
 * validation split and batches for the three pretraining objectives.
 *
 * A batch is a set of `batch` windows, each a contiguous slice of the token
 * stream, turned into the tensors a model's forward() takes, named as in
 * Hugging Face (all i64, shape [batch, seq] unless said otherwise):
 *
 *   GC_TASK_CAUSAL  input_ids; labels = input_ids (the model shifts inside
 *                   its loss), -100 where the span's loss mask is 0.
 *                   Window length = seq.
 *   GC_TASK_MLM     BERT masking (as HF DataCollatorForLanguageModeling):
 *                   each position whose id is not one of special_ids is
 *                   selected with probability 0.15; a selected position
 *                   becomes mask_id (80%), a random id in [0, vocab) (10%),
 *                   or keeps its id (10%).  labels = the original id at
 *                   selected positions, -100 elsewhere; attention_mask all
 *                   ones; token_type_ids all zeros.  Window length = seq.
 *   GC_TASK_SPAN    T5 span corruption (as HF's run_t5_mlm_flax collator):
 *                   noise density 0.15, mean span length 3, see
 *                   gc_span_layout.  The window alternates kept and noise
 *                   spans, starting with a kept span and ending with a
 *                   noise span; span i of noise becomes the one sentinel
 *                   <extra_id_i> = vocab-1-i in input_ids.
 *                     input_ids  = keep_0 <x0> keep_1 <x1> ... keep_k-1 <xk-1> eos,
 *                                  then pad_id up to seq;
 *                     labels     = <x0> noise_0 <x1> noise_1 ... <xk-1> noise_k-1 eos,
 *                                  then -100 up to dec_seq  ([batch, dec_seq]);
 *                     decoder_input_ids = labels shifted right by one, with
 *                                  decoder_start_id first and -100 -> pad_id;
 *                     attention_mask = 1 on the real input tokens, 0 on padding.
 *                   The raw window length is the largest L whose corrupted
 *                   forms fit: inputs (with eos) <= seq and labels (with eos)
 *                   <= dec_seq.  Sentinel ids come from the top of the
 *                   vocabulary, so the tokenizer's own ids must stay below
 *                   vocab - n_spans (T5 reserves 100 ids for this).
 *
 * Token ids in the data must lie in [0, vocab) when vocab > 0 (checked per
 * window; an error names the offending id and offset).
 *
 * Randomness: training batches draw every choice (window starts, masks,
 * span layouts) from the caller's gc_rng, in a fixed order, so saving the
 * rng's four words with a checkpoint and restoring them continues the run
 * bit-for-bit.  Validation batches use no caller state: batch k of n is a
 * fixed set of evenly spaced windows, and MLM/span choices come from a
 * generator seeded with GC_EVAL_SEED + k, so the validation loss at every
 * step is measured on exactly the same tensors.
 *
 * Ownership: `out` is a caller-initialised gc_tensor_map; the batch tensors
 * are put into it (replacing tensors of the same names, leaving others
 * alone) and the map owns them; the caller frees them with
 * gc_tensor_map_clear.  On error `out` is unchanged.  Token spans point
 * into the caller's array and own nothing. */
#ifndef GC_DATASET_H
#define GC_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "ir/tensor.h"
#include "train/rng.h"

#define GC_IGNORE_INDEX (-100)
#define GC_EVAL_SEED UINT64_C(0x6576616c62617463)   /* "evalbatc" */

typedef enum { GC_TASK_CAUSAL, GC_TASK_MLM, GC_TASK_SPAN } gc_task;

typedef struct {
  gc_task task;
  int batch;              /* windows per batch, >= 1 */
  int seq;                /* input length, >= 2 */
  int dec_seq;            /* label length (GC_TASK_SPAN only), >= 2 */
  int vocab;              /* > 0 for MLM and SPAN; 0 skips the id range check for CAUSAL */
  int mask_id;            /* MLM */
  int pad_id;             /* SPAN: input padding and decoder pad (0 in T5) */
  int eos_id;             /* SPAN: ends inputs and labels (1 in T5) */
  int decoder_start_id;   /* SPAN: first decoder input (0 in T5) */
  const int32_t *special_ids;   /* MLM: ids never selected for masking */
  int n_special;
} gc_batch_spec;

typedef struct {
  const int32_t *ids;
  size_t n;
  /* Causal only, may be NULL (every token is a target): loss[i] == 0 makes
   * ids[i] a label of -100, so no loss predicts it (chat data's user
   * turns). */
  const uint8_t *loss;
} gc_token_span;

/* The first floor(n * train_frac) tokens are the training split, the rest
 * validation (no shuffling: the stream's order is kept).  train_frac must
 * lie in (0, 1); -1 otherwise. */
int gc_dataset_split(const int32_t *ids, size_t n, double train_frac,
                     gc_token_span *train, gc_token_span *val, gc_diag *d);

/* T5 span corruption layout of a raw window of `len` tokens (len >= 2), as
 * HF's random_spans_noise_mask: noise = round(len * 0.15) clamped to
 * [1, len-1]; spans = max(1, round(min(noise, len - noise) / 3)).  The
 * corrupted input then has len - noise + spans + 1 tokens, the labels
 * noise + spans + 1 (both counting eos). */
typedef struct {
  int raw_len, n_noise, n_spans;
  int input_len, label_len;
} gc_span_layout;
gc_span_layout gc_span_layout_of(int len);

/* Tokens one window of this spec consumes from the stream (seq, or for SPAN
 * the largest raw length that fits seq and dec_seq); -1 with a message if
 * the spec is invalid. */
int gc_batch_window_len(const gc_batch_spec *s, gc_diag *d);

/* A training batch: `batch` windows with uniformly random starts in
 * [0, data.n - window], then the task's corruption, all drawn from rng.
 * Error if the data is shorter than one window. */
int gc_batch_sample(const gc_batch_spec *s, gc_token_span data, gc_rng *rng,
                    gc_tensor_map *out, gc_diag *d);

/* Validation batch k of n_batches (0 <= k < n_batches): the n_batches *
 * batch windows are spread evenly over the data (the first starts at 0, the
 * last ends at the data's end; windows overlap only if they do not fit side
 * by side).  Deterministic: same arguments, same tensors. */
int gc_batch_eval(const gc_batch_spec *s, gc_token_span data, int k, int n_batches,
                  gc_tensor_map *out, gc_diag *d);

/* Offset in data of window b of validation batch k (as gc_batch_eval uses),
 * e.g. to count the bytes the evaluated tokens decode to; -1 on a bad spec
 * or data shorter than a window. */
int64_t gc_batch_eval_start(const gc_batch_spec *s, gc_token_span data, int k,
                            int n_batches, int b, gc_diag *d);

/* How many validation batches of side-by-side windows fit in data (at least
 * 1 when one window fits; -1 on error): a natural n_batches that covers the
 * split once. */
int gc_batch_eval_count(const gc_batch_spec *s, gc_token_span data, gc_diag *d);

#endif
