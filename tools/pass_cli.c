/* The compiler flags (see pass_cli.h). */
#include "tools/pass_cli.h"
#include "codegen/driver.h"
#include "io/file.h"
#include "passes/graphviz.h"
#include "tools/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PASS_OPT(name, kind, field, value, help) GC_OPT(name, 0, kind, gc_cli_pass_flags, field, value, help)
const gc_opt gc_cli_pass_options[] = {
    PASS_OPT("passes", GC_OPT_STRING, passes, "P,Q,...",
             "the pass pipeline (default: simplify,cse,dce,fuse,remat,plan);\n"
             "--passes= keeps the graph as built"),
    PASS_OPT("print-ir-after-all", GC_OPT_FLAG, print_after_all, NULL, "print the IR after every pass"),
    PASS_OPT("print-ir-before-all", GC_OPT_FLAG, print_before_all, NULL, "print the IR before every pass"),
    PASS_OPT("print-ir-after", GC_OPT_STRING, print_after, "PASS,...",
             "print the IR after these passes, or each kernel's loop IR\n"
             "after these stages (lower, split, tile; llvm backend)"),
    PASS_OPT("print-ir-before", GC_OPT_STRING, print_before, "PASS,...", "print the IR before these passes or stages"),
    PASS_OPT("print-ir-after-change", GC_OPT_FLAG, print_after_change, NULL,
             "print the IR after each pass that changed it"),
    PASS_OPT("dump-dir", GC_OPT_FILE, dump_dir, "DIR",
             "write the IR after each pass: 00-input.gcir, 01-after-simplify.gcir, ...\n"
             "(and each kernel's after each stage: k0-1-after-lower.loop, ...)"),
    PASS_OPT("time-passes", GC_OPT_FLAG, time_passes, NULL, "print each pass's (and stage's) time"),
    PASS_OPT("stats", GC_OPT_FLAG, stats, NULL, "print 'stats: nodes= kernels= peak_bytes= flops=' after the passes"),
    PASS_OPT("emit-dot", GC_OPT_FILE, emit_dot, "FILE", "write the graph as Graphviz, kernels as clusters"),
    PASS_OPT("dot-filter", GC_OPT_STRING, dot_filter, "PREFIX", "draw only nodes whose label starts with PREFIX"),
    PASS_OPT("mem-budget", GC_OPT_STRING, mem_budget, "BYTES",
             "recompute forward values in the backward until the planned\n"
             "peak fits (K, M, G suffixes)"),
    GC_OPT_TABLE_END,
};

const gc_opt gc_cli_llvm_options[] = {
    PASS_OPT("no-cache", GC_OPT_FLAG, no_cache, NULL, "compile every kernel, neither reading nor writing the cache"),
    PASS_OPT("emit-llvm", GC_OPT_FILE, emit_llvm, "DIR", "write each kernel's LLVM IR into DIR"),
    PASS_OPT("emit-asm", GC_OPT_FILE, emit_asm, "DIR", "write each kernel's assembly into DIR"),
    GC_OPT_TABLE_END,
};
#undef PASS_OPT

/* "123", "64K", "1.5G" as bytes; -1 when it does not parse. */
static int64_t parse_bytes(const char *s) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || errno || v < 0) return -1;
  double scale = 1;
  if (*end == 'K' || *end == 'k') scale = 1024, end++;
  else if (*end == 'M' || *end == 'm') scale = 1024.0 * 1024, end++;
  else if (*end == 'G' || *end == 'g') scale = 1024.0 * 1024 * 1024, end++;
  if (*end == 'B' || *end == 'b') end++;
  if (*end || v * scale > 9e18) return -1;
  return (int64_t)(v * scale);
}

/* The flags only the llvm backend acts on, when another runs (or none):
 * its own, and dumps of the loop IR's stages (which it runs). */
static const char *llvm_only_flag(const gc_cli_pass_flags *f, char *buf, size_t size) {
  if (f->emit_llvm) return "--emit-llvm";
  if (f->emit_asm) return "--emit-asm";
  if (f->no_cache) return "--no-cache";
  const char *stage;
  if ((stage = gc_stage_listed(f->print_after))) return snprintf(buf, size, "--print-ir-after=%s", stage), buf;
  if ((stage = gc_stage_listed(f->print_before))) return snprintf(buf, size, "--print-ir-before=%s", stage), buf;
  return NULL;
}

int gc_cli_pass_setup(const char *prog, const gc_cli_pass_flags *f, const char *backend, FILE *out,
                      gc_pass_options *o, gc_llvm_options *llvm) {
  gc_pass_options_init(o);
  gc_diag d = {0};
  char flag[64];
  const char *only = llvm_only_flag(f, flag, sizeof flag);
  if (only && !backend)
    return gc_cli_usage_error(prog, "%s: %s compiles no kernels; use gc-run or gc-train with --backend llvm", only,
                              prog), -1;
  if (only && strcmp(backend, "llvm") != 0)
    return gc_cli_usage_error(prog, "%s is for the llvm backend (--backend llvm), not %s", only, backend), -1;
  if (f->passes && gc_pipeline_check(f->passes, &d)) return gc_cli_usage_error(prog, "--passes: %s", d.msg), -1;
  if (f->print_after && gc_stage_names_check(f->print_after, &d))
    return gc_cli_usage_error(prog, "--print-ir-after: %s", d.msg), -1;
  if (f->print_before && gc_stage_names_check(f->print_before, &d))
    return gc_cli_usage_error(prog, "--print-ir-before: %s", d.msg), -1;
  o->print_after = f->print_after;
  o->print_before = f->print_before;
  o->print_after_all = f->print_after_all;
  o->print_before_all = f->print_before_all;
  o->print_after_change = f->print_after_change;
  o->dump_dir = f->dump_dir;
  o->time_passes = f->time_passes;
  o->stats = f->stats;
  o->out = out;
  if (llvm) *llvm = (gc_llvm_options){f->no_cache, f->emit_llvm, f->emit_asm};
  if (f->mem_budget && (o->mem_budget = parse_bytes(f->mem_budget)) <= 0)
    return gc_cli_usage_error(prog, "--mem-budget takes a positive size in bytes (e.g. 5000000, 64M), not '%s'",
                              f->mem_budget), -1;
  return 0;
}

int gc_cli_emit_dot(const char *prog, const gc_cli_pass_flags *f, const gc_graph *g) {
  if (!f->emit_dot) return 0;
  gc_diag d = {0};
  char *text = gc_graph_graphviz(g, f->dot_filter);
  int rc = text ? gc_write_file_atomic(f->emit_dot, text, strlen(text), &d) : gc_diag_set(&d, "out of memory");
  if (rc) fprintf(stderr, "%s: error: %s\n", prog, d.msg);
  free(text);
  return rc;
}
