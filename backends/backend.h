/* backends/backend.h — compile once, run many.
 *
 *   gc_program *p = gc_compile(graph, &options, &d);   // the pipeline, once
 *   gc_program_set_params(p, &weights, &d);             // bind params once
 *   for (each step) {
 *     fill gc_program_input(p, "input_ids")->data ...   // or gc_program_feed
 *     gc_program_run(p, &d);
 *     read gc_program_output(p, "loss") ...
 *   }
 *   gc_program_get_params(p, &weights);                 // e.g. to save them
 *   gc_program_free(p);
 *
 * A program owns a copy of the graph (after the passes), a persistent buffer
 * for every param (weights, optimizer state) and every input, and one for
 * every output.  Names are resolved to these slots when the program is
 * made; a run looks nothing up by name, and `update "P" = %v` writes P's
 * buffer in place when the run ends.  After its first run a program
 * allocates nothing (see base/alloc.h).
 *
 * A backend turns the program's graph into something it can run.  Adding
 * one is a folder backends/NAME/ whose backend.c defines
 * `const gc_backend gc_backend_NAME`; the build lists the folders, so nothing
 * else names backends.  gc_backend_find("NAME") finds it.
 *
 * Ownership: gc_compile copies the graph (the caller keeps its own).
 * Tensors handed out by gc_program_param/input/output are views into the
 * program's buffers: valid until gc_program_free, never freed by the caller.
 * Errors are values: -1 (or NULL) with a message in `d`. */
#ifndef GC_BACKENDS_BACKEND_H
#define GC_BACKENDS_BACKEND_H

#include "ir/tensor.h"
#include "ir/ir.h"

#include <stdbool.h>
#include <stdio.h>

typedef struct gc_program gc_program;

/* The llvm backend's own options: its object cache and the files it writes. */
typedef struct {
  bool no_cache;                      /* compile every kernel, no object cache */
  const char *emit_llvm, *emit_asm;   /* directories for each kernel's .ll / .s */
} gc_llvm_options;

/* What gc_compile does; gc_compile_options_init gives the defaults. */
struct gc_pass_options;   /* passes/pass.h */

/* --check-nans: after each kernel its results are scanned; the first NaN
 * (with check_infs, NaN or ±Inf) stops the run with a report naming the
 * node that made it, and a reproducer is written into dir (NULL: "gc-nan";
 * the string must outlive the program).  backends/nan_report.h,
 * docs/debugging.md. */
typedef struct {
  bool check_nans, check_infs;
  const char *dir;
} gc_nan_options;

typedef struct {
  const char *backend;   /* a backend's name; NULL: gc_default_backend() */
  const char *passes;    /* the pass pipeline, "simplify,cse,..."; NULL: the
                          * default pipeline; "": none (the graph as built).
                          * plan runs last whatever it says (every backend
                          * runs the places plan wrote) */
  const struct gc_pass_options *pass_options;   /* dumps, stats; NULL: none */
  int threads;           /* worker threads; 0: the cores available */
  bool profile;          /* time each kernel (gc_program_profile) */
  const struct gc_comm *comm;   /* what collectives run through
                                 * (backends/runtime/comm.h); NULL: one process */
  gc_nan_options nans;   /* off by default: the kernels are the same either way */
  gc_llvm_options llvm;  /* read by the llvm backend only */
} gc_compile_options;

void gc_compile_options_init(gc_compile_options *o);

/* ---- backends ---------------------------------------------------------- */

typedef struct gc_backend {
  const char *name;
  const char *description;
  /* Prepare to run p's graph (p's slots are made); *state is the backend's
   * per-program state, handed to run and release. */
  int (*compile)(gc_program *p, const gc_compile_options *o, void **state, gc_diag *d);
  /* One run: read the param and input slots, fill the output slots, and
   * write every update into its param's slot after all reads. */
  int (*run)(gc_program *p, void *state, gc_diag *d);
  void (*release)(void *state);
  /* Optional: print the per-kernel profile gathered so far (compiled with
   * profile set): the kernels by time, with their label, FLOPs and rate;
   * out NULL: clear it. */
  void (*profile)(const gc_program *p, const void *state, FILE *out, int top);
} gc_backend;

/* The backend named `name`; NULL + message listing the known ones. */
const gc_backend *gc_backend_find(const char *name, gc_diag *d);
/* Every backend, in name order; *n is set to their count. */
const gc_backend *const *gc_backends(int *n);
/* The backend used when none is named. */
const char *gc_default_backend(void);

/* ---- programs ---------------------------------------------------------- */

/* Runs the pass pipeline on a copy of g, then the backend's compile.
 * The graph must verify.  NULL + message. */
gc_program *gc_compile(const gc_graph *g, const gc_compile_options *o, gc_diag *d);

/* The program for `g` (taken over: freed with the program) on `backend`,
 * without passes; g must be planned (ir/plan.h: a stored value without a
 * place is an error).  gc_compile's last step; backends' own entry points (such
 * as gc_interp_run) use it directly.  NULL + message (g is freed then too). */
gc_program *gc_program_new(gc_graph *g, const gc_backend *backend, const gc_compile_options *o,
                           gc_diag *d);
void gc_program_free(gc_program *p);

const gc_graph *gc_program_graph(const gc_program *p);
const gc_backend *gc_program_backend(const gc_program *p);

/* Copy every param of `params` that the graph has into its slot; each must
 * have the param's type.  With `require_all`, a param of the graph missing
 * from `params` is an error naming it.  Tensors the graph does not use are
 * ignored. */
int gc_program_set_params(gc_program *p, const gc_tensor_map *params, bool require_all, gc_diag *d);
/* gc_program_set_params without the copies: each tensor of `params` that a
 * param slot takes is moved into the program (its data becomes the slot's;
 * the tensor leaves the map), so weights are never held twice.  Tensors
 * the graph does not use stay in the map. */
int gc_program_adopt_params(gc_program *p, gc_tensor_map *params, bool require_all, gc_diag *d);
/* Put a copy of every param (after updates: the current values) into out,
 * replacing tensors of the same name.  -1 when out of memory. */
int gc_program_get_params(const gc_program *p, gc_tensor_map *out, gc_diag *d);
/* Make p's params read and write the buffers of owner's params of the same
 * name (each of the same type), e.g. an evaluation program sharing the
 * training program's weights.  owner must outlive p.  Params owner lacks
 * keep their own buffers. */
int gc_program_share_params(gc_program *p, gc_program *owner, gc_diag *d);
/* Copy every input the graph has from `inputs`; each must be present and of
 * the input's type (the error names it). */
int gc_program_feed(gc_program *p, const gc_tensor_map *inputs, gc_diag *d);

/* Views of the slots by name; NULL when the graph has no such param, input
 * or output.  A param's and an input's buffer may be written by the caller
 * between runs. */
gc_tensor *gc_program_param(gc_program *p, const char *name);
gc_tensor *gc_program_input(gc_program *p, const char *name);
const gc_tensor *gc_program_output(const gc_program *p, const char *name);

/* One run.  On error (a gather index out of range, ...) the message names
 * the node, and the params are as the failed run left them: an update
 * planned in place (into="P") is written when its kernel runs, so it may
 * already be there; the others are written only when every node has
 * succeeded.  A caller that must keep the old params on error keeps a copy
 * (gc-train stops at a failed step without saving, so its last checkpoint
 * stands). */
int gc_program_run(gc_program *p, gc_diag *d);

/* Compiled with nans.check_nans or check_infs: whether the last run
 * stopped at a value that is not finite (its report in that run's diag).
 * gc_program_set_runs: the runs done so far, which the report's step
 * number counts from (gc-train sets its step, also on --resume). */
bool gc_program_stopped_at_nan(const gc_program *p);
void gc_program_set_runs(gc_program *p, int64_t runs);

/* Put a copy of every output into out under its name (replacing). */
int gc_program_get_outputs(const gc_program *p, gc_tensor_map *out, gc_diag *d);

/* Bind every param of `params` (all required) and every input, run once,
 * put the outputs into `outputs` and every updated param's new value in
 * place of its tensor in `params`.  On error (-1 + message) neither map is
 * touched.  What gc_interp_run and the tests' one-run helpers do. */
int gc_program_run_once(gc_program *p, gc_tensor_map *params, const gc_tensor_map *inputs,
                        gc_tensor_map *outputs, gc_diag *d);

/* The backend's per-kernel profile (see gc_backend.profile), the `top`
 * kernels; a line saying there is none when the backend keeps none.  With
 * out NULL: start the profile afresh (after a warm-up run). */
void gc_program_profile(const gc_program *p, FILE *out, int top);

/* Figures about a program, for --bench and --stats. */
typedef struct {
  double compile_ms;     /* gc_compile: passes + backend compile */
  double flops;          /* per run, counted from the graph (see gc_graph_flops) */
  size_t param_bytes;    /* params and optimizer state */
  size_t work_bytes;     /* the backend's buffers for intermediate values */
  int kernels;           /* kernels a run launches (llvm), 0 for the interpreter */
  int compiled, cached;  /* distinct kernels compiled now / loaded from the cache */
} gc_program_stats;
gc_program_stats gc_program_stats_of(const gc_program *p);

#endif
