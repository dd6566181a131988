/* Timing programs, and random inputs for them (see bench.h). */
#include "backends/runtime/bench.h"
#include "backends/runtime/random_fill.h"
#include "base/alloc.h"
#include "base/clock.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <xxhash.h>

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double peak_rss_mb(void) {
  struct rusage u;
  return getrusage(RUSAGE_SELF, &u) == 0 ? (double)u.ru_maxrss / 1024.0 : 0;
}

int gc_program_bench(gc_program *p, int runs, gc_bench_result *r, gc_diag *d) {
  memset(r, 0, sizeof *r);
  if (runs < 1) return gc_diag_set(d, "bench: at least one run");
  double *ms = malloc(sizeof *ms * (size_t)runs);
  if (!ms) return gc_diag_set(d, "out of memory");
  int rc = gc_program_run(p, d);   /* warm-up */
  gc_program_profile(p, NULL, 0);
  uint64_t allocs = gc_alloc_count();
  for (int i = 0; rc == 0 && i < runs; i++) {
    double t0 = gc_now_ms();
    rc = gc_program_run(p, d);
    ms[i] = gc_now_ms() - t0;
  }
  if (rc == 0) {
    r->run_allocations = gc_alloc_count() - allocs;
    qsort(ms, (size_t)runs, sizeof *ms, cmp_double);
    r->runs = runs;
    r->median_ms = runs % 2 ? ms[runs / 2] : 0.5 * (ms[runs / 2 - 1] + ms[runs / 2]);
    r->min_ms = ms[0];
    r->max_ms = ms[runs - 1];
    gc_program_stats s = gc_program_stats_of(p);
    r->gflops = r->median_ms > 0 ? s.flops / (r->median_ms * 1e6) : 0;
    r->compile_ms = s.compile_ms;
    r->kernels = s.kernels;
    r->compiled = s.compiled;
    r->cached = s.cached;
    r->peak_rss_mb = peak_rss_mb();
  }
  free(ms);
  return rc;
}

void gc_bench_print(FILE *f, const gc_bench_result *r) {
  fprintf(f, "median_ms=%.3f min_ms=%.3f gflops=%.2f compile_ms=%.1f peak_rss_mb=%.1f", r->median_ms, r->min_ms,
          r->gflops, r->compile_ms, r->peak_rss_mb);
  if (r->kernels) fprintf(f, " kernels=%d compiled=%d cached=%d", r->kernels, r->compiled, r->cached);
  fputc('\n', f);
}

void gc_bench_print_compile(FILE *f, const gc_program *p) {
  gc_program_stats s = gc_program_stats_of(p);
  fprintf(f, "compile_ms=%.1f peak_rss_mb=%.1f", s.compile_ms, peak_rss_mb());
  if (s.kernels) fprintf(f, " kernels=%d compiled=%d cached=%d", s.kernels, s.compiled, s.cached);
  fputc('\n', f);
}

/* ---- random inputs ----------------------------------------------------- */

static bool listed(const char *const *only, const char *name) {
  if (!only) return true;
  for (; *only; only++)
    if (strcmp(*only, name) == 0) return true;
  return false;
}

static int random_sources(const gc_graph *g, gc_op op, gc_tensor_map *inputs, uint64_t seed, int64_t int_high,
                          const char *const *only, gc_diag *d) {
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    if (n->op != op) continue;
    const char *name = n->attrs.name.name;
    if (gc_tensor_map_get(inputs, name) || !listed(only, name)) continue;
    gc_tensor *t = gc_tensor_new(&n->type);
    if (!t) return gc_diag_set(d, "out of memory for input \"%s\"", name);
    uint64_t s = seed ^ XXH3_64bits(name, strlen(name));   /* per name, not per position */
    if (gc_dtype_is_float(t->type.dtype)) gc_fill_normal(t, s, 0, 1);
    else gc_fill_integers(t, s, int_high);
    gc_tensor_map_put(inputs, name, t);
  }
  return 0;
}

int gc_random_inputs(const gc_graph *g, gc_tensor_map *inputs, uint64_t seed, int64_t int_high,
                     const char *const *only, gc_diag *d) {
  return random_sources(g, GC_OP_INPUT, inputs, seed, int_high, only, d);
}

int gc_random_params(const gc_graph *g, gc_tensor_map *params, uint64_t seed, int64_t int_high, gc_diag *d) {
  return random_sources(g, GC_OP_PARAM, params, seed, int_high, NULL, d);
}
