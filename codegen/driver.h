/* codegen/driver.h — the loop IR's stages, run in order on one kernel.
 *
 * A kernel of the planned graph goes through the stages of
 * codegen/stages.def: `lower` makes its loop function, the later ones
 * rewrite it in place.  The driver verifies the loop IR after every stage
 * (gc_loop_verify: a stage that breaks it is reported by name, with the IR
 * before it), prints it before/after the stages the pass options name
 * (--print-ir-before/after, -all, -after-change: the graph passes' flags,
 * one list of names for both), writes it into the dump directory
 * (DIR/kK-N-after-STAGE.loop) and sums each stage's time over the kernels
 * (--time-passes).  A backend that compiles loop functions (llvm) calls it
 * for each kernel. */
#ifndef GC_CODEGEN_DRIVER_H
#define GC_CODEGEN_DRIVER_H

#include "codegen/lower.h"
#include "codegen/tile.h"
#include "passes/pass.h"

typedef struct gc_codegen_kernel {
  gc_kernel_ref ref;          /* what lower lowers */
  gc_tile_target target;      /* the machine split and tile cut for */
  int display;                /* the kernel's number: kN in dumps */
  const char *label;          /* a label of its nodes for dump headings, or NULL */
  /* called after lower (before its dumps): the caller's marks on the
   * function that need the graph (which written buffer is stored over a
   * read one); may be NULL */
  void (*lowered)(struct gc_codegen_kernel *k, void *arg);
  void *arg;
  /* results: the loop function, and the graph node of each buffer */
  gc_loop_fn *fn;
  int *buffer_nodes;
} gc_codegen_kernel;

/* A stage: 0, or -1 with a message. */
typedef int gc_stage_fn(gc_codegen_kernel *k, gc_diag *d);

typedef struct {
  const char *name;
  const char *description;
  gc_stage_fn *run;
} gc_stage;

/* Every stage, in the order of stages.def; *n set to the count. */
const gc_stage *gc_stages(int *n);
const gc_stage *gc_stage_find(const char *name);

#define GC_STAGE(name, description) int gc_stage_##name(gc_codegen_kernel *k, gc_diag *d);
#include "codegen/stages.def"
#undef GC_STAGE

/* Check a list of names to print the IR before or after: each a graph pass
 * or a stage.  0, or -1 naming the unknown one and listing both kinds. */
int gc_stage_names_check(const char *names, gc_diag *d);
/* The first stage `names` lists (a comma-separated list), or NULL. */
const char *gc_stage_listed(const char *names);

/* Stage times summed over the kernels of one program. */
typedef struct {
  double ms[16];
} gc_codegen_times;

/* Run every stage on k (k->fn and k->buffer_nodes are the caller's after,
 * even on failure: gc_loop_free and free them).  po may be NULL; times may
 * be NULL. */
int gc_codegen_run(gc_codegen_kernel *k, const gc_pass_options *po, gc_codegen_times *times, gc_diag *d);
/* "time-passes: STAGE ms" lines for each stage, when po asks for them. */
void gc_codegen_report(const gc_codegen_times *times, const gc_pass_options *po);

#endif
