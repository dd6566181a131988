/* train/train.h — what gc-train does, as a library: whole runs (train, then
 * sample; sample from a checkpoint; list the presets) as entry points taking
 * gc_train_opts, and the pieces they are made of: the data setup (tokenizer,
 * split, batch spec), the graphs, the output directory, checkpoints, the
 * training loop and sampling.  tools/gc-train.c is only its option table
 * and calls to the entry points.
 *
 * Nothing here prints an error: a function that can fail fills a gc_diag
 * and returns -1 (or a status, where it says so); the caller reports it.
 * What is printed is the run's own output on stdout: the progress line,
 * validation lines, the sample. */
#ifndef GC_TRAIN_TRAIN_H
#define GC_TRAIN_TRAIN_H

#include "backends/backend.h"
#include "train/dataset.h"
#include "frontend/optim.h"
#include "train/rng.h"
#include "text/tokenizer.h"
#include "models/model.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* ---- options (tools/gc-train.c parses them from its flags) ---------------- */

typedef struct {
  const char *model;
  long steps;
  int batch, seq, dec_seq;        /* dec_seq 0: seq / 4 (T5 only) */
  double lr;
  long warmup;
  uint64_t seed;
  const char *data;               /* NULL: the bundled tinyshakespeare */
  long eval_every, save_every;
  const char *backend;            /* NULL: the default backend */
  int threads;
  const char *passes;             /* NULL: the default pipeline */
  const struct gc_pass_options *pass_options;   /* dumps and reports; NULL: none */
  gc_nan_options nans;            /* --check-nans: a NaN stops the run (exit 2) */
  gc_llvm_options llvm;           /* the llvm backend's cache and emitted files */
  const char *out;                /* NULL: runs/MODEL */
  bool resume, generate;
  bool eval;                      /* --eval: evaluate on --data, train nothing */
  bool chat;                      /* --generate --chat: the prompt as one user turn */
  bool ids;                       /* --generate --ids: the generated ids as JSON, last line */
  bool force;                     /* start over in an OUT that holds a run */
  const char *prompt;
  const char *set;                /* "key=value,...": optimizer keys, then model keys */
  int max_new;
  double temperature, top_p;
  bool catch_signals;             /* gc_train_main: SIGINT and SIGTERM stop the
                                   * loop at a step boundary, after a save */
  int grad_accum;                 /* micro-batches of --batch windows per step (>= 1) */
  int zero;                       /* --zero 1: each rank keeps 1/N of the optimizer state */
  int bucket_mb;                  /* the gradients' all_reduce in buckets of this many MiB */
  const struct gc_comm *comm;     /* the ranks (backends/runtime/comm.h); NULL: one */
} gc_train_opts;

void gc_train_opts_defaults(gc_train_opts *o);

/* ---- whole runs (train/train_run.c) --------------------------------------- */

/* What the entry points return: gc-train's exit status. */
enum {
  GC_TRAIN_OK = 0,
  GC_TRAIN_FAILED = 1,      /* a file could not be written, a run failed */
  GC_TRAIN_BAD_INPUT = 2,   /* bad flags, data or checkpoint, or a loss that is
                             * not finite (nothing saved after it) */
  GC_TRAIN_STOPPED = 128,   /* + the signal: stopped by SIGINT/SIGTERM, saved */
};

/* Trains opts->model as gc-train does.  Every input is checked first (the
 * model and --set, the data, OUT, on --resume the checkpoint and loss.csv,
 * the graphs), and nothing is created or written before they all pass
 * (but for finishing the rename of a save a crash interrupted).
 * Then OUT is made, temp files of an interrupted save are removed, a fresh
 * run writes the tokenizer and settings.txt, the loop trains (progress,
 * loss.csv, loss.svg, checkpoints) and a causal model writes a sample, all
 * on stdout.  --resume without --set reuses OUT/settings.txt.  A status
 * above; d holds the message unless GC_TRAIN_OK. */
int gc_train_main(const gc_train_opts *opts, gc_diag *d);

/* --generate: samples opts->max_new tokens after opts->prompt from the
 * checkpoint in OUT (its settings.txt unless opts->set).  GC_TRAIN_OK or
 * GC_TRAIN_BAD_INPUT + message. */
int gc_train_generate_main(const gc_train_opts *opts, gc_diag *d);

/* --eval: one line `eval: loss=L ppl=P bpb=B tokens=N` (no bpb on chat
 * data) for the model in OUT, or the Hugging Face directory opts->model when
 * no --out is given, on opts->data (see gc_train_eval_file).  GC_TRAIN_OK or
 * GC_TRAIN_BAD_INPUT + message. */
int gc_train_eval_main(const gc_train_opts *opts, gc_diag *d);

/* Every preset of the registry with its parameter count, one per line. */
void gc_train_list_models(FILE *out);
/* The parameter count of preset `name`; -1 + message. */
int64_t gc_train_preset_params(const char *name, gc_diag *d);

/* ---- the run: config, data, graphs, params ------------------------------- */

typedef struct {
  const gc_train_opts *opts;
  char out[4096];                 /* the output directory */
  gc_model_config config;
  gc_optim_config optim;
  gc_tokenizer *tok;
  int32_t *ids;                   /* the encoded corpus */
  uint8_t *loss;                  /* chat data: which ids the loss covers; else NULL */
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
  long saved_step;                /* the step of the checkpoint in OUT, -1: none */
  int64_t eos_id;                 /* generation stops after it; -1: never */
  /* Data parallel or gradient accumulation (train/data_parallel.c): the
   * gradients of one micro-batch; train_graph is then the step graph
   * (all_reduce, clipping, AdamW) and train_prog runs it. */
  gc_graph *grad_graph;
  gc_program *grad_prog;
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
/* Where --generate and --eval take the model from: the Hugging Face
 * directory named as the model when no --out is given, else OUT. */
const char *gc_train_model_source(const gc_train_run *r);
/* For --generate and --eval: the tokenizer and graph g's params from
 * gc_train_model_source, and eos_id (<|im_end|> with --chat; else the
 * source's generation_config.json or config.json, else <|endoftext|>). */
int gc_train_open_model(gc_train_run *r, const gc_graph *g, gc_diag *d);

/* The training graph (model + loss + optimizer step) and the evaluation
 * graph (no dropout, no update), with the params' init rules. */
int gc_train_build_graphs(gc_train_run *r, gc_diag *d);

/* Fresh params from the seed, or (resume) the checkpoint in OUT; sets
 * saved_step. */
int gc_train_init_params(gc_train_run *r, gc_diag *d);

/* Compile both graphs (opts->backend, opts->threads) and hand the params to
 * the training program; the evaluation program shares them. */
int gc_train_compile(gc_train_run *r, gc_diag *d);

void gc_train_run_free(gc_train_run *r);

/* ---- the output directory (train/train_out.c) ----------------------------- */

/* Whether OUT can be used, creating nothing: an existing writable
 * directory, or a path whose nearest existing ancestor is one. */
int gc_train_check_out(const char *dir, gc_diag *d);
/* mkdir -p OUT, then the same checks. */
int gc_train_make_out(const char *dir, gc_diag *d);
/* Removes the temp files (gc_temp_name's) a crash left of gc-train's files in
 * OUT, when the process that wrote it is gone.  Returns how many were removed. */
int gc_train_remove_temps(const char *dir);
/* A fresh run (no --resume) into an OUT that holds a run's files is
 * refused unless opts->force: -1 + "OUT already holds a run (FILE): --resume
 * continues it, --force starts it over". */
int gc_train_check_fresh(const gc_train_run *r, gc_diag *d);
/* On --resume: OUT must hold a checkpoint.  -1 + a message saying what to
 * do: OUT holds nothing of a run, or a run that stopped before its first
 * save. */
int gc_train_check_resume(const gc_train_run *r, gc_diag *d);
/* --force: removes the old run's checkpoint and log from OUT. */
void gc_train_clear_run(const gc_train_run *r);
/* OUT/settings.txt: the run's --set, so --resume and --generate rebuild the
 * same model without repeating it. */
int gc_train_save_settings(const gc_train_run *r, gc_diag *d);
/* The saved --set of opts->out (or runs/MODEL), malloc'd, without trailing
 * white space (a newline an editor added); NULL if none. */
char *gc_train_saved_settings(const gc_train_opts *o);
/* On --resume: OUT/loss.csv, if there is one, must read as a run log. */
int gc_train_check_log(const gc_train_run *r, gc_diag *d);

/* OUT/config.json, generation_config.json, tokenizer.json and
 * tokenizer_config.json (train/train_hf.c): with model.safetensors, OUT is a
 * Hugging Face model directory.  A run from scratch first sets the config's
 * bos/eos token ids to its tokenizer's <|endoftext|>. */
int gc_train_save_hf_files(gc_train_run *r, gc_diag *d);

/* ---- checkpoints (train/train_checkpoint.c) ------------------------------ */

/* OUT/model.safetensors (params by HF name) and OUT/state.safetensors
 * (opt.*, data.rng as i64[4], train.step, the model file's XXH3 and the
 * state's own checksum), each written atomically; the params are first read
 * back from the training program, when there is one.  -2 + message (and
 * nothing written) when a param or moment is NaN or infinite; -1 + message
 * when a write fails. */
int gc_train_save(gc_train_run *r, gc_diag *d);
/* Reads both files into params for graph g (every param of g must be found
 * with its shape), restores rng and step.  A state file whose checksum does
 * not match, or a model file that is not the one the state was saved with,
 * is refused.  -1 + message naming the file. */
int gc_train_load(gc_train_run *r, const gc_graph *g, bool with_state, gc_diag *d);

/* ---- the loop (train/train_loop.c) --------------------------------------- */

/* Trains from r->step to opts->steps, logging to OUT/loss.csv and loss.svg,
 * evaluating and checkpointing.  When *stop becomes non-zero (a signal
 * handler sets it) the loop saves at the end of the step and returns 1.
 * 0 when done; -1 + message on failure; -2 + message naming the step when
 * the training loss (or a saved value) is not finite: nothing is saved
 * after the last good checkpoint. */
int gc_train_loop(gc_train_run *r, volatile sig_atomic_t *stop, gc_diag *d);

/* Mean validation loss over the validation split: all of it (windows
 * tiling it) when `whole`, else an even sample of its batches that keeps
 * validation near a tenth of the training time; *used and *all the
 * batches evaluated and the split's.  Total nats, and bytes the predicted
 * tokens decode to (0 for masked/span tasks). */
int gc_train_evaluate(gc_train_run *r, bool whole, double *loss, double *nats, double *bytes, int *used, int *all,
                      gc_diag *d);

/* Tokens whose loss a batch counts: labels other than -100 (the causal loss
 * predicts every position but the first of a window). */
double gc_train_counted_tokens(const gc_train_run *r, const gc_tensor_map *batch);

/* ---- data parallel, gradient accumulation (train/data_parallel.c) -------- */

/* Under `mpirun -np N` (opts->comm of N ranks) or with --grad-accum K > 1 a
 * step is split: the global batch is what one process draws with --batch
 * x K x N windows; rank r runs the gradient graph on blocks r*K .. r*K+K-1
 * of it (K micro-batches of --batch windows), each micro-batch's loss
 * scaled by its predicted tokens over the global count (the sum over
 * micro-batches and ranks), summing the gradients in order; the step graph
 * then all-reduces them (in rank order) before clipping and AdamW.  So N
 * ranks and one process with --grad-accum N give bitwise the same weights.
 * Rank 0 alone prints and writes OUT. */
bool gc_train_is_split(const gc_train_opts *o);
int gc_train_rank(const gc_train_opts *o);
int gc_train_world(const gc_train_opts *o);
/* The gradient graph and the step graph (gc_optim_append_grads,
 * gc_optim_step_graph) instead of the single training graph. */
int gc_train_dp_build(gc_train_run *r, gc_diag *d);
/* Compile the gradient program, sharing the step program's params. */
int gc_train_dp_compile(gc_train_run *r, const gc_compile_options *o, gc_diag *d);
/* The global batch must fit the training split: -1 + one line. */
int gc_train_dp_check_data(const gc_train_run *r, gc_diag *d);
/* Collective, on every rank after its checks: status is its own check's
 * (GC_TRAIN_OK or a failure); returns GC_TRAIN_BAD_INPUT (message in d on
 * the ranks whose own check passed) when any rank failed or when a rank's
 * settings (model, --set, seed, batch, seq, grad-accum, data size) differ
 * from rank 0's; else status. */
int gc_train_dp_agree(gc_train_run *r, int status, gc_diag *d);
/* One split step (r->step is advanced by the caller): *loss the global
 * mean loss, *lr the step's learning rate. */
int gc_train_dp_step(gc_train_run *r, double *loss, double *lr, gc_diag *d);
/* XXH3 of the bytes of every param of the training program but the
 * optimizer state (opt.*), in slot order. */
uint64_t gc_train_params_hash(const gc_train_run *r);
/* Appends "step,hash of rank 0,hash of rank 1,..." to OUT/params_hash.csv
 * (collective; rank 0 writes). */
int gc_train_dp_log_hashes(gc_train_run *r, gc_diag *d);

/* ---- a rank that died (train/peers.c) ------------------------------------ */

/* Collective, at start: every rank's host and pid, so a survivor can name
 * a rank of its host whose process is gone (mpirun then stops the others
 * with SIGTERM, and a collective would never finish). */
int gc_train_peers_init(const struct gc_comm *c, gc_diag *d);
/* Async-signal-safe: when a rank of this host has died, writes "gc-train:
 * error: rank K (pid P) died; ..." to stderr (from the lowest surviving
 * rank of the host only) and returns true; else false. */
bool gc_train_peers_report_dead(void);

/* ---- --zero 1 (train/zero.c) -------------------------------------------- */

/* ZeRO-1: under mpirun -np N with --zero 1 the step graph updates block
 * `rank` of every param (flattened, zero-padded to N blocks) and keeps only
 * that block of its moments (opt.m.P, opt.v.P); the updated blocks are
 * all-gathered into the params.  The gradients are all-reduced whole as
 * without it, so the clipping norm and every update are bitwise those of a
 * run without it.  Checkpoints hold the moments whole. */
bool gc_train_zero(const gc_train_opts *o);
/* The whole moments in m (a checkpoint's tensors) replaced by this rank's
 * blocks; tensors of other shapes are left for the loader to refuse. */
int gc_train_zero_scatter(const gc_train_run *r, gc_tensor_map *m, gc_diag *d);
/* Collective: every rank's blocks of the step program's moments gathered;
 * with `keep`, put whole into r->params (rank 0, to save them). */
int gc_train_zero_gather(gc_train_run *r, bool keep, gc_diag *d);
/* Bytes of the optimizer state (params opt.*) this rank's step holds. */
int64_t gc_train_optimizer_bytes(const gc_train_run *r);
/* With --zero 1 a stop (a signal seen by any rank) is agreed on by all
 * (a collective: each rank then takes part in the gather of the save);
 * else `stop` itself.  *rc -1 + message when the ranks cannot agree. */
bool gc_train_stop_agreed(const gc_train_run *r, bool stop, gc_diag *d, int *rc);

/* ---- evaluating a file (train/train_eval.c) ------------------------------ */

/* The text's ids x (or a chat file's, with its loss mask) cut into windows
 * x[k..k+T) for k = 0, T, 2T, ... (T = opts->seq), each predicting
 * x[k+1..k+T+1), the last one shorter; the negative log-likelihood summed
 * over every predicted token (on chat data only those the mask covers):
 * *nats, *tokens (N); *bytes is the file's size, 0 for chat data.  Needs the
 * tokenizer and params (gc_train_open_model). */
int gc_train_eval_file(gc_train_run *r, double *nats, size_t *tokens, double *bytes, gc_diag *d);

/* ---- sampling (train/train_sample.c) ------------------------------------- */

/* Runs p (built for batch 1 x seq) on ids[0..len), len <= seq, right-padded,
 * with labels = input_ids as the model's forward takes them: its "logits"
 * output (owned by p, valid until p runs again), or NULL with d filled. */
const gc_tensor *gc_train_logits_of(gc_train_run *r, gc_program *p, const int32_t *ids, int64_t len, int64_t seq,
                                    gc_diag *d);

/* Writes prompt + max_new sampled tokens to stdout (causal models only). */
int gc_train_sample(gc_train_run *r, const char *prompt, int max_new, double temperature,
                    double top_p, uint64_t seed, gc_diag *d);

#endif
