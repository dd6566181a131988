/* The pass pipeline on whole training steps: every tiny model's step
 * (forward, loss, backward, clipping, schedule, AdamW) in f64, compiled with
 * each pass alone and with the default pipeline, runs on the interpreter to
 * the same loss, outputs and updated params as the graph as built (passes
 * ""), to 1e-12 relative to each tensor's largest element.  And the figures
 * --stats reports for qwen2_tiny's step: kernels, the planned peak against the sum of the stored values and
 * against what an unplanned run allocates.
 *
 * (In tests/models/ because it builds models; tests/<layer>/ links only that
 * layer and those below, and models sit above passes.) */
#include "tests/backend_param.h"
#include "backends/backend.h"
#include "backends/runtime/bench.h"
#include "frontend/optim.h"
#include "models/model.h"
#include "models/model_io.h"
#include "passes/pass.h"

#include <math.h>
#include <string.h>

static const char *const tiny[] = {"qwen2_tiny", "gpt2_tiny", "bert_tiny", "t5_tiny", "alibi_tiny"};

typedef struct {
  gc_model_config config;
  gc_graph *graph;          /* the training step as built */
  gc_tensor_map params, inputs;
} step;

/* The whole training step of `model` with `set` applied; params from the
 * model's init (optimizer state zeros), token ids and labels random. */
static void build_step(step *s, const char *model, const char *set, int64_t batch, int64_t seq) {
  gc_diag d;
  gc_init_table *inits = NULL;
  gc_optim_config o;
  gc_optim_defaults(&o);
  if (gc_model_config_init(&s->config, model, &d) || (set && gc_model_config_set(&s->config, set, &d)))
    fail_msg("%s: %s", model, d.msg);
  gc_model_shape shape = {.batch = batch, .seq = seq, .dec_seq = seq, .training = true};
  s->graph = gc_model_build(&s->config, &shape, &inits, &d);
  if (!s->graph || gc_optim_append(s->graph, "loss", &o, &d)) fail_msg("%s: build: %s", model, d.msg);
  gc_tensor_map_init(&s->params);
  gc_tensor_map_init(&s->inputs);
  static const char *const tokens[] = {"input_ids", "labels", "decoder_input_ids", NULL};
  int64_t vocab = s->config.family->vocab_size(s->config.config);
  if (gc_init_params(s->graph, inits, 1, &s->params, &d) ||
      gc_random_inputs(s->graph, &s->inputs, 7, vocab, tokens, &d) ||
      gc_model_complete_inputs(&s->config, s->graph, &s->inputs, NULL, &d))
    fail_msg("%s: %s", model, d.msg);
  gc_init_table_free(inits);
}

static void free_step(step *s) {
  gc_tensor_map_clear(&s->params);
  gc_tensor_map_clear(&s->inputs);
  gc_graph_free(s->graph);
  gc_model_config_free(&s->config);
}

/* One step compiled with `passes` on the interpreter: every output, then
 * every param after the updates, into out. */
static void run_step(const step *s, const char *passes, gc_tensor_map *out) {
  gc_diag d;
  gc_compile_options co;
  gc_compile_options_init(&co);
  co.backend = "interp";
  co.passes = passes;
  co.threads = 1;
  gc_program *p = gc_compile(s->graph, &co, &d);
  if (!p) fail_msg("compile with passes \"%s\": %s", passes ? passes : "(default)", d.msg);
  gc_tensor_map_init(out);
  if (gc_program_set_params(p, &s->params, true, &d) || gc_program_feed(p, &s->inputs, &d) ||
      gc_program_run(p, &d) || gc_program_get_outputs(p, out, &d) || gc_program_get_params(p, out, &d))
    fail_msg("run with passes \"%s\": %s", passes ? passes : "(default)", d.msg);
  gc_program_free(p);
}

/* Every tensor within 1e-12 of the unoptimised one, measured against the
 * tensor's largest element (a pass may sum in another order: an element
 * that nearly cancels, such as a weight AdamW moves to about 0, keeps
 * only the absolute error); integers exact, NaN only against NaN. */
static void same_results(const char *model, const char *passes, const gc_tensor_map *want, const gc_tensor_map *got) {
  assert_int_equal(want->n, got->n);
  for (int i = 0; i < want->n; i++) {
    char what[300];
    snprintf(what, sizeof what, "%s, passes \"%s\": \"%s\"", model, passes, want->names[i]);
    gc_test_expect_close(what, gc_tensor_map_get(got, want->names[i]), want->tensors[i], 1e-12, 1e-300);
  }
}

static void test_each_pass_keeps_results(void **state) {
  (void)state;
  for (size_t m = 0; m < sizeof tiny / sizeof *tiny; m++) {
    step s;
    build_step(&s, tiny[m], "dtype=f64", 2, 8);
    gc_tensor_map want;
    run_step(&s, "", &want);
    double loss = gc_tensor_load(gc_tensor_map_get(&want, "loss"), 0);
    assert_true(isfinite(loss));
    /* each pass of passes.def alone, then the default pipeline (NULL) */
    int n_passes;
    const gc_pass *passes = gc_passes(&n_passes);
    for (int p = 0; p <= n_passes; p++) {
      const char *pipeline = p < n_passes ? passes[p].name : NULL;
      gc_tensor_map got;
      run_step(&s, pipeline, &got);
      same_results(tiny[m], pipeline ? pipeline : gc_pass_default_pipeline(), &want, &got);
      gc_tensor_map_clear(&got);
    }
    print_message("%-10s f64 step: loss %.15g, %d outputs and params equal under each pass and the default pipeline\n",
                  tiny[m], loss, want.n);
    gc_tensor_map_clear(&want);
    free_step(&s);
  }
}

/* --stats for qwen2_tiny's step (f32, the tools' default shape: batch 2,
 * seq 16): kernels and the planned peak, printed against the sum of the
 * values the plan stores in the arena and against the sum of every node's
 * value, which is what a run of the graph as built allocates (params and
 * inputs aside).  Issue 9 asks for a peak of at most a third of "the sum of
 * its buffers": that holds against what an unplanned run allocates.  Against
 * the stored values alone it cannot: global-norm clipping needs every
 * gradient before any update, so all of them (as large as the weights) are
 * alive at once; the test prints that floor too. */
static void test_qwen2_tiny_stats(void **state) {
  (void)state;
  gc_diag d;
  step s;
  build_step(&s, "qwen2_tiny", NULL, 2, 16);
  double every_value = 0, gradients = 0;
  for (int i = 0; i < s.graph->n_nodes; i++) {
    const gc_node *n = s.graph->nodes[i];
    if (!gc_op_is_fed(n->op)) every_value += (double)gc_node_bytes(n);
    else if (n->op == GC_OP_PARAM && gc_dtype_is_float(n->type.dtype) && strncmp(n->attrs.name.name, "opt.", 4))
      gradients += (double)gc_node_bytes(n);
  }
  gc_graph *g = gc_run_passes(gc_graph_clone(s.graph), NULL, NULL, &d);
  if (!g) fail_msg("%s", d.msg);
  gc_graph_stats st = gc_graph_stats_of(g);
  double stored = 0, into = 0;
  int n_stored = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    if (!n->planned) continue;
    if (n->into) {
      into += (double)gc_node_bytes(n);
    } else {
      stored += (double)gc_node_bytes(n);
      n_stored++;
    }
  }
  double peak = (double)st.peak_bytes;
  print_message("qwen2_tiny step (f32, batch 2, seq 16): nodes=%d kernels=%d peak_bytes=%lld flops=%.0f\n", st.nodes,
                st.kernels, (long long)st.peak_bytes, st.flops);
  print_message("  planned peak %.0f bytes: %.1f%% of the %d stored values' %.0f bytes; %.1f%% of every node's %.0f "
                "bytes (an unplanned run)\n",
                peak, 100.0 * peak / stored, n_stored, stored, 100.0 * peak / every_value, every_value);
  print_message("  the weights' gradients, all alive for the global norm: %.0f bytes (%.1f%% of the peak); updates "
                "written into their params: %.0f bytes\n",
                gradients, 100.0 * gradients / peak, into);
  assert_true(st.kernels > 0);
  assert_true(st.peak_bytes > 0);
  assert_true(peak < stored);             /* the arena reuses memory */
  assert_true(3.0 * peak <= every_value); /* issue 9: at most a third */
  gc_graph_free(g);
  free_step(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_each_pass_keeps_results),
      cmocka_unit_test(test_qwen2_tiny_stats),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
