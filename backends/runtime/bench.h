/* backends/runtime/bench.h — timing a program honestly, and inputs for it.
 *
 * gc_program_bench runs a program once to warm up, then `runs` times, and
 * reports the median and fastest run, GFLOP/s (FLOPs counted from the graph,
 * see gc_graph_flops), the compile time and the process's peak RSS.
 * `gc-run --bench N` prints these as one line of key=value figures. */
#ifndef GC_RUNTIME_BENCH_H
#define GC_RUNTIME_BENCH_H

#include "backends/backend.h"

#include <stdint.h>
#include <stdio.h>

typedef struct {
  int runs;
  double median_ms, min_ms, max_ms;
  double gflops;          /* at the median */
  double compile_ms;
  double peak_rss_mb;     /* the whole process, as the kernel counts it */
  uint64_t run_allocations;   /* gc_alloc calls during the timed runs */
  int kernels, compiled, cached;   /* gc_program_stats */
} gc_bench_result;

/* One warm-up run, then `runs` (>= 1) timed runs.  0, or -1 + message from
 * a failed run. */
int gc_program_bench(gc_program *p, int runs, gc_bench_result *r, gc_diag *d);

/* "median_ms=… min_ms=… gflops=… compile_ms=… peak_rss_mb=…" and, for a
 * compiling backend, " kernels=… compiled=… cached=…" */
void gc_bench_print(FILE *f, const gc_bench_result *r);

/* After a compile alone: "compile_ms=… peak_rss_mb=…" and, for a compiling
 * backend, " kernels=… compiled=… cached=…" (gc-run --compile-only). */
void gc_bench_print_compile(FILE *f, const gc_program *p);

/* For every input of g that `inputs` lacks, a tensor of its type filled
 * from `seed`: floats N(0,1), integers uniform in [0, int_high) (0 when
 * int_high < 1), bools uniform.  Only the names in `only` (NULL-terminated;
 * NULL: every input).  The same seed gives the same tensors. */
int gc_random_inputs(const gc_graph *g, gc_tensor_map *inputs, uint64_t seed, int64_t int_high,
                     const char *const *only, gc_diag *d);

/* The same for every param of g that `params` lacks (tests, benchmarks). */
int gc_random_params(const gc_graph *g, gc_tensor_map *params, uint64_t seed, int64_t int_high, gc_diag *d);

#endif
