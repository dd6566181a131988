/* bench_train_step: time one training step (forward, loss, backward, AdamW)
 * of a model's graph on the interpreter, excluding graph building.
 *
 *   bench_train_step [MODEL] [BATCH] [SEQ] [STEPS]     (qwen2_tiny 8 64 7)
 *
 * Prints the median and min step time and tokens/s.  The side-by-side
 * comparison with PyTorch is bench/train_step_vs_torch.py, which runs this. */
#include "backends/interp/interp.h"
#include "frontend/builder.h"
#include "frontend/optim.h"
#include "models/model.h"
#include "models/model_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  const char *name = argc > 1 ? argv[1] : "qwen2_tiny";
  int64_t B = argc > 2 ? atoll(argv[2]) : 8, T = argc > 3 ? atoll(argv[3]) : 64;
  int steps = argc > 4 ? atoi(argv[4]) : 7;
  if (!strcmp(name, "--help") || B < 1 || T < 1 || steps < 1 || steps > 1000) {
    fprintf(stderr, "usage: bench_train_step [MODEL] [BATCH] [SEQ] [STEPS]\n");
    return 2;
  }
  gc_diag d;
  gc_model_config c;
  gc_init_table *inits;
  gc_optim_config opt;
  gc_optim_defaults(&opt);
  gc_model_shape s = {.batch = B, .seq = T, .dec_seq = T, .training = true};
  if (gc_model_config_init(&c, name, &d)) {
    fprintf(stderr, "bench_train_step: %s\n", d.msg);
    return 2;
  }
  gc_graph *g = gc_model_build(&c, &s, &inits, &d);
  if (!g || gc_optim_append(g, "loss", &opt, &d)) {
    fprintf(stderr, "bench_train_step: %s\n", d.msg);
    return 1;
  }
  gc_tensor_map params, inputs, out;
  gc_tensor_map_init(&params);
  gc_tensor_map_init(&inputs);
  gc_tensor_map_init(&out);
  int64_t V = c.family->vocab_size(c.config);
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    if (n->op != GC_OP_INPUT) continue;
    gc_tensor *t = gc_tensor_new(&n->type);
    for (int64_t k = 0; k < gc_tensor_numel(t); k++) gc_tensor_store(t, k, (double)((k * 7919 + 13) % V));
    gc_tensor_map_put(&inputs, n->attrs.name.name, t);
  }
  if (gc_model_complete_inputs(&c, g, &inputs, NULL, &d) ||
      gc_model_load_params(&c, g, NULL, &params, inits, 1, NULL, &d)) {
    fprintf(stderr, "bench_train_step: %s\n", d.msg);
    return 1;
  }
  double *t = calloc((size_t)steps, sizeof *t), loss = 0;
  for (int i = 0; i < steps; i++) {
    double t0 = now();
    if (gc_interp_run(g, &params, &inputs, &out, &d)) {
      fprintf(stderr, "bench_train_step: %s\n", d.msg);
      return 1;
    }
    t[i] = now() - t0;
    loss = gc_tensor_load(gc_tensor_map_get(&out, "loss"), 0);
    gc_tensor_map_clear(&out);
  }
  qsort(t, (size_t)steps, sizeof *t, cmp);
  printf("gc-interp %s batch %lld seq %lld: median %.1f ms/step, min %.1f ms, %.0f tokens/s (loss %.4f after %d steps)\n",
         name, (long long)B, (long long)T, 1e3 * t[steps / 2], 1e3 * t[0], (double)(B * T) / t[steps / 2], loss, steps);
  free(t);
  gc_tensor_map_clear(&params);
  gc_tensor_map_clear(&inputs);
  gc_init_table_free(inits);
  gc_graph_free(g);
  gc_model_config_free(&c);
  return 0;
}
