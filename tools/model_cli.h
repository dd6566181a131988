/* tools/model_cli.h — `model:NAME` as a graph source for gc-opt and gc-run:
 * the shared flags (--set, --batch, --seq, --dec-seq, --init) and building
 * the model's graph from them. */
#ifndef GC_TOOLS_MODEL_CLI_H
#define GC_TOOLS_MODEL_CLI_H

#include "backends/runtime/tensor.h"
#include "models/model.h"

#include <stdbool.h>

typedef struct {
  const char *set;                      /* "key=value,..." */
  const char *batch, *seq, *dec_seq;    /* as given, or NULL */
  const char *init;                     /* seed for missing weights, or NULL */
  bool train;                           /* --train: the whole training step */
} gc_cli_model_flags;

#define GC_CLI_MODEL_FLAGS_HELP                                                       \
  "  --set K=V,...   model config keys (Hugging Face names) and dtype=f32|f64\n"      \
  "  --batch B       batch size (default: from input_ids, else 2)\n"                  \
  "  --seq T         sequence length (default: from input_ids, else 16)\n"            \
  "  --dec-seq T     decoder length, T5 (default: from labels, else --seq)\n"         \
  "  --init SEED     initialise missing weights as the model's HF _init_weights\n" \
  "  --train         build the whole training step: forward, loss, backward and\n" \
  "                  the optimizer (--set lr, beta1, beta2, eps, weight_decay,\n"   \
  "                  warmup, decay_steps, min_lr, clip, schedule, optimizer);\n"    \
  "                  optimizer state opt.* starts at zeros when not given\n"

/* True when `spec` is "model:NAME". */
bool gc_cli_is_model(const char *spec);
/* The slot of flag "--name" (name without dashes, `len` bytes), or NULL. */
const char **gc_cli_model_flag(gc_cli_model_flags *f, const char *name, size_t len);
/* True when any model flag was given (an error without model:NAME). */
bool gc_cli_model_flags_used(const gc_cli_model_flags *f);

typedef struct {
  gc_model_config config;
  gc_graph *graph;
  gc_init_table *inits;
  uint64_t seed;                        /* from --init */
} gc_cli_model;

/* Build the model named by spec ("model:NAME").  `inputs` (may be NULL)
 * supplies default shapes.  On failure prints "PROG: error: ..." and returns
 * GC_EXIT_USAGE for a bad name/key/flag, GC_EXIT_ERROR otherwise. */
int gc_cli_model_build(const char *prog, const char *spec, const gc_cli_model_flags *f,
                       const gc_tensor_map *inputs, gc_cli_model *m);
/* Fill params (from `file`, by HF name) and complete inputs (HF defaults).
 * Prints notes and errors; 0 or GC_EXIT_ERROR. */
int gc_cli_model_feed(const char *prog, gc_cli_model *m, gc_tensor_map *file, gc_tensor_map *params,
                      gc_tensor_map *inputs);
void gc_cli_model_free(gc_cli_model *m);

#endif
