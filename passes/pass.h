/* passes/pass.h — graph passes and the pass manager.
 *
 * A pass takes a graph and returns the graph it makes of it: a new one (the
 * old one is then freed by the manager) or the same one, changed in place.
 * The passes are one flat list (passes/passes.def), each in its own file.
 * A pipeline is a comma-separated string of their names,
 * "simplify,cse,dce,fuse,remat,plan"; gc_pass_default_pipeline() is the one every
 * tool uses unless told otherwise, and "" keeps the graph as built.
 *
 * The manager verifies the graph after every pass: a pass that breaks it is
 * reported by name, with the verifier's message (the first bad node) and
 * the IR before the pass.  It prints the IR before/after passes as asked
 * (--print-ir-*), writes one numbered file per pass into a dump directory,
 * times passes, and reports one stats line.  The same options reach the
 * loop IR's stages after it (codegen/driver.h), which a backend runs.
 *
 * Ownership: gc_run_passes takes the graph and returns the final one (or
 * NULL with a message, the graph freed); the caller owns the result. */
#ifndef GC_PASSES_PASS_H
#define GC_PASSES_PASS_H

#include "ir/ir.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* What passes may read and where the manager reports. */
typedef struct gc_pass_options {
  /* dumps: each a comma-separated list of pass names, or NULL */
  const char *print_before, *print_after;
  bool print_after_all, print_after_change, print_before_all;
  const char *dump_dir;       /* 00-input.gcir, 01-after-simplify.gcir, ... */
  bool time_passes;
  bool stats;                 /* one "stats: ..." line after the pipeline */
  FILE *out;                  /* where dumps and reports go; NULL: stderr */
  /* remat */
  int64_t mem_budget;         /* bytes; 0: none */
  /* plan */
  bool plan_inplace_updates;  /* updates may write their param's own buffer */
} gc_pass_options;

void gc_pass_options_init(gc_pass_options *o);

typedef struct gc_pass_ctx {
  const gc_pass_options *opts;
  gc_diag *d;
  FILE *out;                  /* opts->out or stderr */
} gc_pass_ctx;

/* A pass never frees the graph it is given: it returns it (changed in place
 * or not) or a new graph, which the manager then keeps instead (freeing the
 * old one); or NULL with a message in ctx->d. */
typedef gc_graph *gc_pass_fn(gc_graph *g, gc_pass_ctx *ctx);

typedef struct {
  const char *name;
  const char *description;
  gc_pass_fn *run;
} gc_pass;

/* Every pass, in the order of passes.def; *n set to the count. */
const gc_pass *gc_passes(int *n);
const gc_pass *gc_pass_find(const char *name);
const char *gc_pass_default_pipeline(void);

/* Check a pipeline string: every name a pass.  0, or -1 naming the unknown
 * pass and listing the known ones. */
int gc_pipeline_check(const char *pipeline, gc_diag *d);
/* Split a comma-separated list "a, b,c" into at most max names (pointers
 * into buf, a copy of it of `size` bytes): their count, or -1 + message.
 * (A list of names to dump, passes or the loop IR's stages, is checked by
 * gc_stage_names_check in codegen/driver.h.) */
int gc_pass_names(const char *list, char *buf, size_t size, const char **names, int max, gc_diag *d);
/* Whether the comma-separated list (or NULL) names `name`. */
bool gc_pass_listed(const char *list, const char *name);

/* Run `pipeline` (NULL: the default) on g.  Takes g; returns the result or
 * NULL + message. */
gc_graph *gc_run_passes(gc_graph *g, const char *pipeline, const gc_pass_options *o, gc_diag *d);

/* The stats line's figures. */
typedef struct {
  int nodes;
  int kernels;            /* compiled kernels one run launches */
  int64_t peak_bytes;     /* the planned arena (0 before plan) */
  double flops;
} gc_graph_stats;
gc_graph_stats gc_graph_stats_of(const gc_graph *g);
/* "stats: nodes=N kernels=K peak_bytes=B flops=F\n" */
void gc_print_stats(FILE *f, const gc_graph *g);

/* The passes (one file each). */
#define GC_PASS(name, description) gc_graph *gc_pass_##name(gc_graph *g, gc_pass_ctx *ctx);
#include "passes/passes.def"
#undef GC_PASS

/* cse that merges only equal nodes of the same kernel (or of none), so no
 * kernel's results change (passes/cse.c). */
gc_graph *gc_cse_within_kernels(gc_graph *g, gc_pass_ctx *ctx);

#endif
