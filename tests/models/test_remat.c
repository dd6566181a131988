/* remat (--mem-budget) on qwen2_tiny's whole training step: with a budget of
 * 60% of the unbudgeted planned peak, the pipeline recomputes forward values
 * in the backward until the planned peak fits, and two training steps give
 * bitwise the losses, gradients and updated params of the unbudgeted
 * program (the recomputed kernels are the same computation); a budget no
 * schedule can meet is an error naming the lowest peak reached.  Without a
 * budget remat changes nothing. */
#include "tests/backend_param.h"
#include "frontend/optim.h"
#include "models/model.h"
#include "models/model_io.h"
#include "passes/pass.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  gc_model_config c;
  gc_graph *g;
  gc_tensor_map params, inputs;
} step;

static void step_build(step *s) {
  gc_diag d;
  gc_init_table *inits;
  gc_optim_config o;
  gc_optim_defaults(&o);
  if (gc_model_config_init(&s->c, "qwen2_tiny", &d)) fail_msg("%s", d.msg);
  gc_model_shape shape = {.batch = 4, .seq = 64, .training = true};
  s->g = gc_model_build(&s->c, &shape, &inits, &d);
  if (!s->g || gc_optim_append(s->g, "loss", &o, &d)) fail_msg("build: %s", d.msg);
  gc_tensor_map_init(&s->params);
  gc_tensor_map_init(&s->inputs);
  if (gc_init_params(s->g, inits, 1, &s->params, &d)) fail_msg("init: %s", d.msg);
  gc_init_table_free(inits);
  gc_type t = gc_type_make(GC_I64, 2, (int64_t[]){4, 64});
  gc_tensor *ids = gc_tensor_new(&t);
  for (int i = 0; i < 128; i++) ((int64_t *)ids->data)[i] = (i * 37 + i / 7) % 500 + 3;
  gc_tensor_map_put(&s->inputs, "input_ids", ids);
  gc_tensor_map_put(&s->inputs, "labels", gc_tensor_clone(ids));
  if (gc_model_complete_inputs(&s->c, s->g, &s->inputs, NULL, &d)) fail_msg("inputs: %s", d.msg);
}

static void step_free(step *s) {
  gc_graph_free(s->g);
  gc_tensor_map_clear(&s->params);
  gc_tensor_map_clear(&s->inputs);
  gc_model_config_free(&s->c);
}

/* The default pipeline on a copy of g with this budget: the planned peak,
 * or -1 with the message in d.  What remat reports goes to `report`. */
static int64_t planned_peak(const gc_graph *g, int64_t budget, FILE *report, gc_diag *d) {
  gc_pass_options po;
  gc_pass_options_init(&po);
  po.mem_budget = budget;
  po.out = report;
  gc_graph *copy = gc_graph_clone(g);
  gc_graph *out = gc_run_passes(copy, NULL, &po, d);
  if (!out) return -1;
  int64_t peak = gc_graph_stats_of(out).peak_bytes;
  gc_graph_free(out);
  return peak;
}

/* Two training steps; every output of the second and every param after it. */
static void two_steps(const step *s, int64_t budget, gc_tensor_map *outs, gc_tensor_map *params) {
  gc_diag d;
  gc_pass_options po;
  gc_pass_options_init(&po);
  po.mem_budget = budget;
  FILE *quiet = fopen("/dev/null", "w");
  po.out = quiet;
  gc_compile_options o = gc_test_compile_options();
  o.pass_options = &po;
  gc_program *p = gc_test_compile_with(s->g, &o, &s->params, &s->inputs);
  fclose(quiet);
  for (int i = 0; i < 2; i++)
    if (gc_program_run(p, &d)) fail_msg("run: %s", d.msg);
  gc_tensor_map_init(outs);
  gc_tensor_map_init(params);
  if (gc_program_get_outputs(p, outs, &d) || gc_program_get_params(p, params, &d)) fail_msg("%s", d.msg);
  gc_program_free(p);
}

static void test_budget_of_sixty_percent(void **state) {
  (void)state;
  step s;
  step_build(&s);
  gc_diag d;
  int64_t free_peak = planned_peak(s.g, 0, NULL, &d);
  if (free_peak <= 0) fail_msg("%s", d.msg);
  int64_t budget = free_peak * 6 / 10;
  char *report = NULL;
  size_t len = 0;
  FILE *rf = open_memstream(&report, &len);
  int64_t peak = planned_peak(s.g, budget, rf, &d);
  fclose(rf);
  if (peak < 0) fail_msg("remat at 60%%: %s", d.msg);
  int recomputed = 0;
  for (const char *at = report; (at = strstr(at, "remat: recompute")); at++) recomputed++;
  print_message("qwen2_tiny step (batch 4 x 64): planned peak %lld bytes; budget %lld (60%%): %lld bytes, "
                "%d values recomputed\n",
                (long long)free_peak, (long long)budget, (long long)peak, recomputed);
  assert_true(peak <= budget);
  assert_true(recomputed > 0);
  free(report);

  gc_tensor_map want_out, want_params, got_out, got_params;
  two_steps(&s, 0, &want_out, &want_params);
  two_steps(&s, budget, &got_out, &got_params);
  assert_int_equal(got_out.n, want_out.n);
  for (int i = 0; i < want_out.n; i++) {
    char what[300];
    snprintf(what, sizeof what, "output %s after two steps, budget against none", want_out.names[i]);
    gc_test_expect_bitwise(what, gc_tensor_map_get(&got_out, want_out.names[i]), want_out.tensors[i]);
  }
  for (int i = 0; i < want_params.n; i++) {
    char what[300];
    snprintf(what, sizeof what, "param %s after two steps, budget against none", want_params.names[i]);
    gc_test_expect_bitwise(what, gc_tensor_map_get(&got_params, want_params.names[i]), want_params.tensors[i]);
  }
  gc_tensor_map_clear(&want_out);
  gc_tensor_map_clear(&want_params);
  gc_tensor_map_clear(&got_out);
  gc_tensor_map_clear(&got_params);
  step_free(&s);
}

static void test_budget_out_of_reach(void **state) {
  (void)state;
  step s;
  step_build(&s);
  gc_diag d;
  FILE *quiet = fopen("/dev/null", "w");
  assert_int_equal(planned_peak(s.g, 4096, quiet, &d), -1);
  fclose(quiet);
  print_message("a budget of 4096 bytes: %s\n", d.msg);
  assert_non_null(strstr(d.msg, "4096"));
  assert_non_null(strstr(d.msg, "lowest planned peak"));
  step_free(&s);
}

static void test_no_budget_changes_nothing(void **state) {
  (void)state;
  step s;
  step_build(&s);
  gc_diag d;
  gc_pass_options po;
  gc_pass_options_init(&po);
  gc_graph *a = gc_run_passes(gc_graph_clone(s.g), "simplify,cse,dce,fuse,plan", &po, &d);
  gc_graph *b = gc_run_passes(gc_graph_clone(s.g), "simplify,cse,dce,fuse,remat,plan", &po, &d);
  assert_non_null(a);
  assert_non_null(b);
  char *ta = gc_print(a), *tb = gc_print(b);
  assert_string_equal(ta, tb);
  free(ta);
  free(tb);
  gc_graph_free(a);
  gc_graph_free(b);
  step_free(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_budget_of_sixty_percent),
      cmocka_unit_test(test_budget_out_of_reach),
      cmocka_unit_test(test_no_budget_changes_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
