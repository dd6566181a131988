/* tools/model_cli.h — `model:NAME` as a graph source for gc-opt and gc-run:
 * the shared flags (--set, --batch, --seq, --dec-seq, --init, --train: one
 * option table both tools include) and building the model's graph from them. */
#ifndef GC_TOOLS_MODEL_CLI_H
#define GC_TOOLS_MODEL_CLI_H

#include "ir/tensor.h"
#include "models/model.h"
#include "tools/options.h"

#include <stdbool.h>

typedef struct {
  const char *set;                      /* "key=value,..." */
  int batch, seq, dec_seq;              /* 0: not given */
  gc_opt_seed init;                     /* --init: seed for missing weights */
  bool train;                           /* --train: the whole training step */
} gc_cli_model_flags;

/* The model flags' table, for GC_OPT_INCLUDE_TABLE(..., gc_cli_model_flags
 * field, gc_cli_model_options). */
extern const gc_opt gc_cli_model_options[];

/* True when `spec` is "model:NAME". */
bool gc_cli_is_model(const char *spec);
/* True when any model flag was given (an error without model:NAME). */
bool gc_cli_model_flags_used(const gc_cli_model_flags *f);

typedef struct {
  gc_model_config config;
  gc_graph *graph;
  gc_init_table *inits;
  uint64_t seed;                        /* from --init */
} gc_cli_model;

/* Build the model named by spec ("model:NAME").  `inputs` (may be NULL)
 * supplies the shapes --batch, --seq and --dec-seq do not give.  On failure
 * prints "PROG: error: ..." and returns GC_EXIT_USAGE for a bad name or
 * key, GC_EXIT_ERROR otherwise. */
int gc_cli_model_build(const char *prog, const char *spec, const gc_cli_model_flags *f,
                       const gc_tensor_map *inputs, gc_cli_model *m);
/* Fill params (from `file`, by HF name) and complete inputs (HF defaults).
 * Prints notes and errors; 0 or GC_EXIT_ERROR.  A model:DIR with no --params
 * takes the directory's weights, strictly (models/hf_dir.h): any weight
 * missing, unexpected or misshapen is GC_EXIT_USAGE. */
int gc_cli_model_feed(const char *prog, gc_cli_model *m, gc_tensor_map *file, gc_tensor_map *params,
                      gc_tensor_map *inputs);
void gc_cli_model_free(gc_cli_model *m);

#endif
