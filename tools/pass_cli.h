/* tools/pass_cli.h — the compiler flags gc-opt, gc-run and gc-train share
 * (one option table each includes): the pass pipeline, IR dumps, timing,
 * stats, Graphviz output, the memory budget and the LLVM backend's cache
 * and emitted files. */
#ifndef GC_TOOLS_PASS_CLI_H
#define GC_TOOLS_PASS_CLI_H

#include "backends/backend.h"
#include "passes/pass.h"
#include "tools/options.h"

typedef struct {
  const char *passes;                 /* NULL: the default pipeline */
  bool print_after_all, print_before_all, print_after_change, time_passes, stats, no_cache;
  const char *print_after, *print_before, *dump_dir, *emit_dot, *dot_filter, *mem_budget;
  const char *emit_llvm, *emit_asm;
} gc_cli_pass_flags;

/* The flags of every tool that compiles (gc-opt, gc-run, gc-train). */
extern const gc_opt gc_cli_pass_options[];
/* The llvm backend's own (--no-cache, --emit-llvm, --emit-asm): only the
 * tools that run a backend include them (gc-opt compiles no kernels). */
extern const gc_opt gc_cli_llvm_options[];

/* The pass options the flags ask for (out: where dumps go) and the llvm
 * backend's (llvm may be NULL when the tool runs no backend), or -1 after
 * printing a usage error (a bad --mem-budget or pipeline, or a flag of
 * the llvm backend when `backend`, the one that will run, is another or
 * NULL: gc-opt compiles no kernels). */
int gc_cli_pass_setup(const char *prog, const gc_cli_pass_flags *f, const char *backend, FILE *out,
                      gc_pass_options *o, gc_llvm_options *llvm);

/* --emit-dot FILE: the graph as Graphviz (kernels as clusters).  0, or -1
 * after printing the error. */
int gc_cli_emit_dot(const char *prog, const gc_cli_pass_flags *f, const gc_graph *g);

#endif
