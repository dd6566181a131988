/* train/train.h — the pieces of gc-train: options, the data setup (tokenizer,
 * split, batch spec), the graphs, checkpoints, the training loop and sampling.
 *
 * Every function that can fail on user input prints nothing itself: it fills
 * a gc_diag and returns -1 (or GC_EXIT_USAGE / GC_EXIT_ERROR where it says so),
 * and main() prints "gc-train: error: MESSAGE" and exits. */
#ifndef GC_TOOLS_TRAIN_H
#define GC_TOOLS_TRAIN_H

#include "backends/backend.h"
#include "train/dataset.h"
#include "frontend/optim.h"
#include "train/rng.h"
#include "text/tokenizer.h"
#include "models/model.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

/* ---- options (tools/gc-train.c parses them) ------------------------------ */

typedef struct {
  const char *model;
  long steps;
  int batch, seq, dec_seq;        /* dec_seq 0: seq / 4 (T5 only) */
  double lr;
  long warmup;
  uint64_t seed;
  const char *data;               /* NULL: the bundled tinyshakespeare */
  long eval_every, save_every;
  const char *backend;            /* "interp" */
  int threads;
  const char *out;                /* NULL: runs/MODEL */
  bool resume, generate;
  const char *prompt;
  const char *set;                /* "key=value,...": optimizer keys, then model keys */
  int max_new;
  double temperature, top_p;
} gc_train_opts;

void gc_train_opts_defaults(gc_train_opts *o);

/* ---- the run: config, data, graphs, params ------------------------------- */

typedef struct {
  const gc_train_opts *opts;
  char out[4096];                 /* the output directory */
  gc_model_config config;
  gc_optim_config optim;
  gc_tokenizer *tok;
  int32_t *ids;                   /* the encoded corpus */
  size_t n_ids;
  gc_token_span train, val;
  gc_batch_spec spec;
  int32_t special_ids[8];
  gc_graph *train_graph, *eval_graph;
  gc_init_table *inits;
  gc_tensor_map params;           /* model params and opt.* state, by name: as
                                   * initialised or loaded, and as last saved */
  gc_program *train_prog;         /* the training step; owns the params while training */
  gc_program *eval_prog;          /* the evaluation graph, sharing train_prog's params */
  gc_rng rng;                     /* draws the training batches */
  long step;                      /* steps done */
} gc_train_run;

/* Model config from opts->model and --set (optimizer keys first), optimizer
 * config from the flags.  -1 + message (unknown model, bad key/value). */
int gc_train_configure(gc_train_run *r, gc_diag *d);

/* The corpus file: opts->data, or data/tinyshakespeare.txt found from the
 * executable's directory (bin/../../data, bin/../data).  Writes the path. */
int gc_train_data_path(const gc_train_opts *o, char *path, size_t size, gc_diag *d);

/* Tokenizer (trained on the corpus, or loaded from OUT on --resume and
 * --generate), the encoded corpus, the 90/10 split and the batch spec; checks
 * that each split holds at least one batch window.  -1 + message. */
int gc_train_setup_data(gc_train_run *r, const char *text, size_t len, gc_diag *d);
/* Only the tokenizer (for --generate): loaded from OUT. */
int gc_train_load_tokenizer(gc_train_run *r, gc_diag *d);

/* The training graph (model + loss + optimizer step) and the evaluation
 * graph (no dropout, no update), with the params' init rules. */
int gc_train_build_graphs(gc_train_run *r, gc_diag *d);

/* Fresh params from the seed, or (resume) the checkpoint in OUT. */
int gc_train_init_params(gc_train_run *r, gc_diag *d);

/* Compile both graphs (opts->backend, opts->threads) and hand the params to
 * the training program; the evaluation program shares them. */
int gc_train_compile(gc_train_run *r, gc_diag *d);

void gc_train_run_free(gc_train_run *r);

/* ---- checkpoints (train/train_checkpoint.c) ------------------------------ */

/* OUT/model.safetensors (params by HF name) and OUT/state.safetensors
 * (opt.*, data.rng as i64[4], train.step), each written atomically; the
 * params are first read back from the training program, when there is one. */
int gc_train_save(gc_train_run *r, gc_diag *d);
/* Reads both files into params for graph g (every param of g must be found
 * with its shape), restores rng and step.  -1 + message naming the file. */
int gc_train_load(gc_train_run *r, const gc_graph *g, bool with_state, gc_diag *d);

/* ---- the loop (train/train_loop.c) --------------------------------------- */

/* Trains from r->step to opts->steps, logging to OUT/loss.csv and loss.svg,
 * evaluating and checkpointing.  `stop` set by SIGINT: saves and returns 1.
 * 0 when done, -1 + message on failure. */
int gc_train_loop(gc_train_run *r, volatile sig_atomic_t *stop, gc_diag *d);

/* Mean validation loss over the (capped) validation batches; total nats,
 * and bytes the predicted tokens decode to (0 for masked/span tasks). */
int gc_train_evaluate(gc_train_run *r, double *loss, double *nats, double *bytes, gc_diag *d);

/* ---- sampling (train/train_sample.c) ------------------------------------- */

/* Writes prompt + max_new sampled tokens to stdout (causal models only). */
int gc_train_sample(gc_train_run *r, const char *prompt, int max_new, double temperature,
                    double top_p, uint64_t seed, gc_diag *d);

#endif
