/* train/generate.h — text generation with the KV-cache graphs of
 * models/decode.h: a gc_decoder runs the prefill and decode graphs, holding
 * the cache; gc_generate is the whole loop (prefill, then one decode step per
 * token, sampling with train/sample.h). */
#ifndef GC_TRAIN_GENERATE_H
#define GC_TRAIN_GENERATE_H

#include "backends/backend.h"
#include "models/decode.h"

/* ---- running them ------------------------------------------------------ */

typedef struct gc_decoder gc_decoder;

/* A decoder for up to max_len positions (prompt + generated).  `params`
 * holds the weights by HF name; the decoder copies them (the caller keeps
 * the map) and owns the cache.  NULL + message (unsupported family, bad max_len). */
gc_decoder *gc_decoder_new(const gc_model_config *c, const gc_tensor_map *params, int64_t max_len,
                           gc_diag *d);
/* The same, but the decoder takes the weights it uses out of `params`
 * (gc_program_adopt_params: moved, not copied, so a large model is not held
 * twice) once its graph has compiled; on an earlier error params is as it
 * was. */
gc_decoder *gc_decoder_new_taking(const gc_model_config *c, gc_tensor_map *params, int64_t max_len, gc_diag *d);
void gc_decoder_free(gc_decoder *s);
/* Run the prompt (1 <= n <= max_len) from position 0, resetting the cache;
 * logits[vocab] receives the last token's logits.  0 or -1 + message. */
int gc_decoder_prefill(gc_decoder *s, const int64_t *ids, int64_t n, double *logits, gc_diag *d);
/* Feed one token at the next position (after a prefill; position < max_len);
 * logits[vocab] receives its logits.  0 or -1 + message. */
int gc_decoder_step(gc_decoder *s, int64_t id, double *logits, gc_diag *d);
int64_t gc_decoder_position(const gc_decoder *s);   /* tokens in the cache */
int64_t gc_decoder_vocab(const gc_decoder *s);

/* What a generation took: the prefill's run and the decode steps' runs
 * (compiles excluded), for prefill and decode tokens per second. */
typedef struct {
  int64_t prompt_tokens, new_tokens, decode_steps;
  double prefill_seconds, decode_seconds;
} gc_generate_stats;

typedef struct {
  int64_t max_new;      /* tokens to generate (>= 0) */
  double temperature;   /* 0: greedy (argmax) */
  double top_p;         /* nucleus mass in (0, 1]; 1: no filtering */
  uint64_t seed;        /* the sampler's gc_rng seed */
  int64_t eos_id;       /* stop after generating this id; -1: never stop early */
  gc_generate_stats *stats;   /* NULL, or filled by gc_generate */
  bool take_weights;    /* move the weights out of params into the decoder
                         * (gc_decoder_new_taking) rather than copy them */
  const gc_compile_options *compile;   /* backend, threads, ...; NULL: defaults */
} gc_generate_opts;

/* Prefill the prompt (n_prompt >= 1), then sample up to o->max_new tokens
 * into out[] (room for max_new), one decode step each; prompt + max_new must
 * fit the family's positions.  Returns the count generated (< max_new only
 * when eos_id was generated, which is included), or -1 + message. */
int64_t gc_generate(const gc_model_config *c, gc_tensor_map *params, const int64_t *prompt,
                    int64_t n_prompt, const gc_generate_opts *o, int64_t *out, gc_diag *d);

#endif
