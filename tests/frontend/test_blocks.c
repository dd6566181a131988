/* Kernel counts of the blocks issue 9 names under `fuse`, built with the C
 * builder exactly as models build them, after "simplify,cse,dce,fuse":
 *
 *   forward, one kernel each: a masked softmax over rows, a layer norm, an
 *   RMS norm, GELU (tanh and erf), the SwiGLU gate silu(a) * b, the
 *   cross-entropy of rows picked by eq(iota, label) (and gc_cross_entropy,
 *   the mean over rows with the ignore mask), and the AdamW update of one
 *   param (moments, bias correction, decay and the param write: one kernel
 *   with three results);
 *   a gated MLP: three kernels, one per dot, the gate fused as an epilogue;
 *   backward: a softmax's gradient is one kernel, a norm's at most two.
 *
 * Every fused graph must also compute what the graph as built computes
 * (interpreter, random params and inputs), so a count is never bought with
 * a wrong program.  Shapes have more than 64 elements per row block: fuse
 * recomputes values of at most 64 elements wherever they are read, which
 * would make tiny shapes say nothing about real ones.
 *
 * (This suite lives in tests/frontend/ rather than tests/passes/: it needs
 * the builder, and tests/<layer>/ links only that layer and those below;
 * frontend sits above passes.) */
#include "tests/frontend/nn_testutil.h"
#include "tests/interp_oracle.h"
#include "autodiff/autodiff.h"
#include "backends/runtime/bench.h"
#include "frontend/hf_act.h"
#include "frontend/nn.h"
#include "frontend/optim.h"
#include "frontend/optim_internal.h"
#include "passes/pass.h"

#include <float.h>
#include <math.h>
#include <string.h>

static const char *const fuse_pipeline = "simplify,cse,dce,fuse";

/* ---- running the pipeline and checking the result ------------------------ */

/* g (as built) and fused compute the same outputs and updates. */
static void same_results(const char *block, const gc_graph *g, const gc_graph *fused, int64_t int_high) {
  gc_diag d;
  gc_tensor_map params, inputs, a, b;
  gc_tensor_map_init(&params);
  gc_tensor_map_init(&inputs);
  if (gc_random_params(g, &params, 1, int_high, &d) || gc_random_inputs(g, &inputs, 2, int_high, NULL, &d))
    fail_msg("%s: %s", block, d.msg);
  gc_test_interp_all(g, &params, &inputs, &a);
  gc_test_interp_all(fused, &params, &inputs, &b);
  assert_int_equal(a.n, b.n);
  for (int i = 0; i < a.n; i++) {
    const gc_tensor *x = a.tensors[i], *y = gc_tensor_map_get(&b, a.names[i]);
    if (!y) fail_msg("%s: \"%s\" is missing after fuse", block, a.names[i]);
    double tol = x->type.dtype == GC_F32 ? 1e-5 : 1e-12;
    for (int64_t k = 0; k < gc_tensor_numel(x); k++)
      if (!gc_close(gc_tensor_load(x, k), gc_tensor_load(y, k), tol))
        fail_msg("%s: \"%s\"[%lld] = %.17g as built, %.17g fused", block, a.names[i], (long long)k,
                 gc_tensor_load(x, k), gc_tensor_load(y, k));
  }
  gc_tensor_map_clear(&params), gc_tensor_map_clear(&inputs), gc_tensor_map_clear(&a), gc_tensor_map_clear(&b);
}

/* Run "simplify,cse,dce,fuse" on a copy of g; check the result computes the
 * same; return it (the caller frees it). */
static gc_graph *fuse_checked(const char *block, const gc_graph *g, int64_t int_high) {
  gc_diag d;
  gc_graph *fused = gc_run_passes(gc_graph_clone(g), fuse_pipeline, NULL, &d);
  if (!fused) fail_msg("%s: %s", block, d.msg);
  same_results(block, g, fused, int_high);
  return fused;
}

/* The kernel count of the block after fusion, printed; the graph is freed. */
static int kernels_of(const char *block, gc_graph *g, int64_t int_high) {
  gc_graph *fused = fuse_checked(block, g, int_high);
  int k = gc_graph_stats_of(fused).kernels;
  print_message("%-28s kernels=%d\n", block, k);
  if (getenv("GC_PRINT_BLOCKS")) {
    char *text = gc_print(fused);
    print_message("%s", text);
    free(text);
  }
  gc_graph_free(fused);
  gc_graph_free(g);
  return k;
}

/* ---- the forward blocks ---------------------------------------------------- */

static gc_builder *builder(const char *name) {
  gc_builder *b = gc_builder_new(name, GC_F32);
  assert_non_null(b);
  return b;
}

static gc_val input(gc_builder *b, const char *name, int rank, const int64_t *dims) {
  return gc_input(b, name, GC_FLOATX, rank, dims);
}

/* Attention-style masked softmax: masked scores set to the lowest finite
 * value (as gc_attention does), then gc_softmax over the last axis. */
static gc_val masked_softmax(gc_builder *b, gc_val scores, gc_val keep) {
  gc_val masked = gc_where(b, keep, scores, gc_constf(b, -FLT_MAX));
  return gc_softmax(b, masked, -1);
}

static void test_softmax_masked(void **state) {
  (void)state;
  gc_builder *b = builder("softmax");
  gc_val x = input(b, "scores", GC_SHAPE(2, 4, 32));
  gc_val keep = gc_input(b, "mask", GC_BOOL, GC_SHAPE(4, 32));
  gc_output(b, "y", masked_softmax(b, x, keep));
  assert_int_equal(kernels_of("softmax (masked)", finish_ok(b), 1), 1);
}

static void test_layer_norm(void **state) {
  (void)state;
  gc_builder *b = builder("layer_norm");
  gc_output(b, "y", gc_layer_norm(b, input(b, "x", GC_SHAPE(8, 32)), "ln", 32, 1e-5));
  assert_int_equal(kernels_of("layer norm", finish_ok(b), 1), 1);
}

static void test_rms_norm(void **state) {
  (void)state;
  gc_builder *b = builder("rms_norm");
  gc_output(b, "y", gc_rms_norm(b, input(b, "x", GC_SHAPE(8, 32)), "norm", 32, 1e-6));
  assert_int_equal(kernels_of("RMS norm", finish_ok(b), 1), 1);
}

static void test_gelu(void **state) {
  (void)state;
  static const char *const forms[][2] = {{"gelu_new", "GELU (tanh)"}, {"gelu", "GELU (erf)"}};
  for (int i = 0; i < 2; i++) {
    gc_builder *b = builder("gelu");
    gc_output(b, "y", gc_hf_activation(b, input(b, "x", GC_SHAPE(8, 32)), forms[i][0]));
    assert_int_equal(kernels_of(forms[i][1], finish_ok(b), 1), 1);
  }
}

/* gc_gated_mlp's gate, act(a) * b with act "silu", on its own. */
static void test_swiglu_gate(void **state) {
  (void)state;
  gc_builder *b = builder("swiglu");
  gc_val a = input(b, "a", GC_SHAPE(8, 32)), c = input(b, "b", GC_SHAPE(8, 32));
  gc_output(b, "y", gc_mul(b, gc_hf_activation(b, a, "silu"), c));
  assert_int_equal(kernels_of("SwiGLU gate silu(a)*b", finish_ok(b), 1), 1);
}

/* The whole gated MLP: each dot is one kernel and the gate is an epilogue,
 * so three kernels and nothing else. */
static void test_gated_mlp(void **state) {
  (void)state;
  gc_builder *b = builder("mlp");
  gc_output(b, "y", gc_gated_mlp(b, input(b, "x", GC_SHAPE(2, 8, 32)), "mlp", 32, 64, "silu"));
  assert_int_equal(kernels_of("gated MLP (3 dots)", finish_ok(b), 1), 3);
}

/* The per-row loss as gc_cross_entropy computes it: log-softmax, the label
 * picked by eq(iota, label). */
static void test_cross_entropy_rows(void **state) {
  (void)state;
  gc_builder *b = builder("ce_rows");
  gc_val logits = input(b, "logits", GC_SHAPE(6, 40));
  gc_val labels = gc_input(b, "labels", GC_I64, GC_SHAPE(6, 1));
  gc_val lp = gc_log_softmax(b, logits, -1);
  gc_val hit = gc_eq(b, gc_iota(b, GC_I64, GC_SHAPE(6, 40), 1), labels);
  gc_val picked = gc_sum(b, gc_where(b, hit, lp, gc_constf(b, 0)), GC_AXES(-1), false);
  gc_output(b, "loss", gc_neg(b, picked));
  assert_int_equal(kernels_of("cross-entropy rows", finish_ok(b), 40), 1);
}

/* gc_cross_entropy itself: the rows (one kernel, as above) and their masked
 * mean, which reduces across rows — another axis than the rows' own
 * reduction — so it is a second, small kernel over the per-row losses (a
 * loop kernel reduces one set of axes).  Issue 9 asks one kernel for the
 * cross-entropy of each row; this pins the whole loss at two. */
static void test_cross_entropy(void **state) {
  (void)state;
  gc_builder *b = builder("ce");
  gc_val logits = input(b, "logits", GC_SHAPE(6, 40));
  gc_val labels = gc_input(b, "labels", GC_I64, GC_SHAPE(6));
  gc_output(b, "loss", gc_cross_entropy(b, logits, labels, -100));
  assert_int_equal(kernels_of("gc_cross_entropy (mean)", finish_ok(b), 40), 2);
}

/* The kernel holding update `name`'s value (0: none). */
static int update_kernel(const gc_graph *g, const char *name) {
  for (int i = 0; i < g->n_updates; i++)
    if (strcmp(g->updates[i].name, name) == 0) return g->nodes[g->updates[i].node]->kernel;
  fail_msg("no update \"%s\"", name);
  return 0;
}

/* The AdamW update of one param on its own (gradient, learning rate and
 * bias corrections given): one kernel writing the param and both moments. */
static void test_adamw_update(void **state) {
  (void)state;
  gc_builder *b = builder("adamw");
  gc_optim_config c;
  gc_optim_defaults(&c);
  gc_val w = gc_param(b, "w", GC_SHAPE(16, 32), gc_init_normal(1));
  gc_val grad = input(b, "grad", GC_SHAPE(16, 32));
  /* positive scalars, as the schedule and bias corrections are */
  gc_optim_step_vals sv = {gc_abs(b, input(b, "lr", 0, NULL)), gc_addf(b, gc_abs(b, input(b, "bc1", 0, NULL)), 0.1),
                           gc_addf(b, gc_abs(b, input(b, "bc2", 0, NULL)), 0.1)};
  gc_optim_update_param(b, &c, &sv, "w", w, grad);
  gc_graph *g = finish_ok(b);
  gc_graph *fused = fuse_checked("adamw", g, 1);
  int k = gc_graph_stats_of(fused).kernels;
  print_message("%-28s kernels=%d\n", "AdamW update of one param", k);
  assert_int_equal(k, 1);
  assert_int_equal(update_kernel(fused, "w"), update_kernel(fused, "opt.m.w"));
  assert_int_equal(update_kernel(fused, "w"), update_kernel(fused, "opt.v.w"));
  gc_graph_free(fused);
  gc_graph_free(g);
}

/* The same inside a whole training step (gc_optim_append: gradient,
 * clipping, schedule) of a graph whose only param is w: w and its two
 * moments are still written by one kernel. */
static void test_adamw_in_step(void **state) {
  (void)state;
  gc_builder *b = builder("adamw_step");
  gc_val w = gc_param(b, "w", GC_SHAPE(16, 32), gc_init_normal(1));
  gc_output(b, "loss", gc_sum_all(b, gc_mul(b, w, input(b, "x", GC_SHAPE(16, 32)))));
  gc_graph *g = finish_ok(b);
  gc_optim_config c;
  gc_optim_defaults(&c);
  gc_diag d;
  if (gc_optim_append(g, "loss", &c, &d)) fail_msg("%s", d.msg);
  gc_graph *fused = fuse_checked("adamw_step", g, 1);
  int kw = update_kernel(fused, "w");
  print_message("%-28s kernels=%d (w, opt.m.w, opt.v.w written by kernel @k%d)\n", "AdamW step, one param",
                gc_graph_stats_of(fused).kernels, kw - 1);
  assert_true(kw > 0);
  assert_int_equal(update_kernel(fused, "opt.m.w"), kw);
  assert_int_equal(update_kernel(fused, "opt.v.w"), kw);
  gc_graph_free(fused);
  gc_graph_free(g);
}

/* ---- backward --------------------------------------------------------------- */

/* Which kernels are backward ones.  Autodiff labels only the gradients it
 * accumulates ("grad.<label>", "grad.<param>"), not the nodes inside each
 * VJP rule, so after gc_grad_outputs this test labels every node autodiff
 * appended that has no label "grad.vjp": then every backward node carries a
 * "grad." label and no forward node does (the blocks' scopes are named
 * otherwise).  Labels survive every pass (cse keeps the first of equal
 * nodes, which is the forward one when the backward recomputes a forward
 * value, so that work is rightly counted as forward; fuse copies a
 * recomputed node with its label).  A kernel is a backward kernel when it
 * holds at least one "grad." node, whatever forward values it recomputes;
 * a forward kernel (one with no "grad." node) is not counted, however many
 * of its results the backward reads. */
static int backward_kernels(const char *block, gc_graph *g) {
  int first_backward = g->n_nodes;
  gc_diag d;
  if (gc_grad_outputs(g, "loss", &d)) fail_msg("%s: %s", block, d.msg);
  for (int i = first_backward; i < g->n_nodes; i++)
    if (!g->nodes[i]->label) gc_graph_set_label(g, i, "grad.vjp");
  gc_graph *fused = fuse_checked(block, g, 1);
  int n = 0, total = gc_graph_stats_of(fused).kernels;
  for (int i = 0; i < fused->n_nodes; i++) {
    const gc_node *x = fused->nodes[i];
    if (!x->kernel || !x->label || strncmp(x->label, "grad.", 5) != 0) continue;
    n++;
    while (i + 1 < fused->n_nodes && fused->nodes[i + 1]->kernel == x->kernel) i++;   /* the rest of this kernel */
  }
  print_message("%-28s backward kernels=%d (of %d)\n", block, n, total);
  if (getenv("GC_PRINT_BLOCKS")) {
    char *text = gc_print(fused);
    print_message("%s", text);
    free(text);
  }
  gc_graph_free(fused);
  gc_graph_free(g);
  return n;
}

/* loss = sum(y * dy): the gradient reaching y is the input dy. */
static void loss_of(gc_builder *b, gc_val y, int rank, const int64_t *dims) {
  gc_output(b, "loss", gc_sum_all(b, gc_mul(b, y, input(b, "dy", rank, dims))));
}

static void test_softmax_backward(void **state) {
  (void)state;
  gc_builder *b = builder("softmax_grad");
  gc_val x = gc_param(b, "scores", GC_SHAPE(2, 4, 32), gc_init_normal(1));
  gc_val keep = gc_input(b, "mask", GC_BOOL, GC_SHAPE(4, 32));
  gc_push(b, "softmax");
  gc_val y = masked_softmax(b, x, keep);
  gc_pop(b);
  loss_of(b, y, GC_SHAPE(2, 4, 32));
  assert_int_equal(backward_kernels("softmax (masked) gradient", finish_ok(b)), 1);
}

static void test_rms_norm_backward(void **state) {
  (void)state;
  gc_builder *b = builder("rms_norm_grad");
  gc_val x = gc_param(b, "x", GC_SHAPE(8, 32), gc_init_normal(1));
  loss_of(b, gc_rms_norm(b, x, "norm", 32, 1e-6), GC_SHAPE(8, 32));
  assert_in_range(backward_kernels("RMS norm gradient", finish_ok(b)), 1, 2);
}

/* dx is a row kernel; dweight and dbias are both sums over rows of the same
 * [rows, 32] shape, so they fit one column kernel: two in all. */
static void test_layer_norm_backward(void **state) {
  (void)state;
  gc_builder *b = builder("layer_norm_grad");
  gc_val x = gc_param(b, "x", GC_SHAPE(8, 32), gc_init_normal(1));
  loss_of(b, gc_layer_norm(b, x, "ln", 32, 1e-5), GC_SHAPE(8, 32));
  assert_in_range(backward_kernels("layer norm gradient", finish_ok(b)), 1, 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_softmax_masked),
      cmocka_unit_test(test_layer_norm),
      cmocka_unit_test(test_rms_norm),
      cmocka_unit_test(test_gelu),
      cmocka_unit_test(test_swiglu_gate),
      cmocka_unit_test(test_gated_mlp),
      cmocka_unit_test(test_cross_entropy_rows),
      cmocka_unit_test(test_cross_entropy),
      cmocka_unit_test(test_adamw_update),
      cmocka_unit_test(test_adamw_in_step),
      cmocka_unit_test(test_softmax_backward),
      cmocka_unit_test(test_rms_norm_backward),
      cmocka_unit_test(test_layer_norm_backward),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
