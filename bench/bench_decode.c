/* bench/bench_decode.c — where a decode step's time goes: the KV-cache decode
 * graph of a causal model preset (models/decode.h) with random weights,
 * compiled with the per-kernel profile on, run --steps times after one
 * warm-up step, then each kernel's time, MFLOP, GFLOP/s and GB/s
 * (gc_program_profile).  A benchmark, not a test: it prints figures.  The
 * whole generation beside PyTorch is bench/decode_vs_torch.py.
 *
 *   build/bin/bench_decode [MODEL [STEPS [THREADS [MAX_LEN [SETTINGS]]]]]
 *   e.g. build/bin/bench_decode qwen2_0.5b 4 2 256
 *        build/bin/bench_decode qwen2_0.5b 4 2 256 num_hidden_layers=4
 * GC_DUMP_DIR=DIR writes the graph after each pass there (--dump-dir's files).
 */
#include <stdio.h>
#include <stdlib.h>

#include "backends/backend.h"
#include "base/clock.h"
#include "passes/pass.h"
#include "train/generate.h"

static int fail(const char *what, const gc_diag *d) {
  fprintf(stderr, "bench_decode: %s: %s\n", what, d->msg);
  return 1;
}

int main(int argc, char **argv) {
  if (argc > 1 && argv[1][0] == '-') {
    printf("usage: bench_decode [MODEL [STEPS [THREADS [MAX_LEN [SETTINGS]]]]]\n"
           "  a decode step of MODEL (default qwen2_0.5b) with random weights, run STEPS times\n"
           "  (default 4) on THREADS threads (default: the cores) with a cache of MAX_LEN\n"
           "  positions (default 256), SETTINGS as --set's key=value,...; prints ms per token\n"
           "  and the per-kernel profile (GC_PROFILE_TOP kernels, default 25)\n");
    return 0;
  }
  const char *name = argc > 1 ? argv[1] : "qwen2_0.5b";
  int steps = argc > 2 ? atoi(argv[2]) : 4, threads = argc > 3 ? atoi(argv[3]) : 0;
  int64_t max_len = argc > 4 ? atoll(argv[4]) : 256;
  gc_diag d = {0};
  gc_model_config c = {0};
  if (gc_model_config_init(&c, name, &d) || (argc > 5 && gc_model_config_set(&c, argv[5], &d)))
    return fail(name, &d);
  gc_graph *g = gc_decode_build_step(&c, max_len, &d);
  if (!g) return fail("decode graph", &d);
  /* random weights by the training graph's init rules */
  gc_init_table *inits = NULL;
  gc_model_shape shape = {.batch = 1, .seq = 8};
  gc_graph *full = gc_model_build(&c, &shape, &inits, &d);
  gc_tensor_map params;
  gc_tensor_map_init(&params);
  if (!full || gc_init_params(full, inits, 1, &params, &d)) return fail("weights", &d);
  gc_init_table_free(inits);
  gc_graph_free(full);

  gc_compile_options o;
  gc_compile_options_init(&o);
  o.threads = threads;
  o.profile = true;
  gc_pass_options po;
  gc_pass_options_init(&po);
  po.dump_dir = getenv("GC_DUMP_DIR");   /* the decode graph after each pass */
  if (po.dump_dir) o.pass_options = &po;
  double t0 = gc_now_seconds();
  gc_program *p = gc_compile(g, &o, &d);
  double t1 = gc_now_seconds();
  if (!p || gc_program_adopt_params(p, &params, false, &d)) return fail("compile", &d);
  gc_tensor *pos = gc_program_input(p, "position");
  *(int64_t *)gc_program_input(p, "input_ids")->data = 1;
  *(int64_t *)pos->data = max_len / 2;
  if (gc_program_run(p, &d)) return fail("warm-up", &d);
  gc_program_profile(p, NULL, 0);
  double t2 = gc_now_seconds();
  for (int i = 0; i < steps; i++) {
    *(int64_t *)pos->data = max_len / 2 + 1 + i % (max_len / 2 - 1);
    if (gc_program_run(p, &d)) return fail("step", &d);
  }
  double t3 = gc_now_seconds();
  printf("%s decode step, cache of %lld positions: compile %.0f ms, %.2f ms per token (%.2f tokens/s) over %d steps\n",
         name, (long long)max_len, 1e3 * (t1 - t0), 1e3 * (t3 - t2) / steps, steps / (t3 - t2), steps);
  gc_program_profile(p, stdout, getenv("GC_PROFILE_TOP") ? atoi(getenv("GC_PROFILE_TOP")) : 25);
  gc_program_free(p);
  gc_tensor_map_clear(&params);
  gc_graph_free(g);
  gc_model_config_free(&c);
  return 0;
}
