/* Programs (backends/backend.h): compile once, run many.  Params live in
 * the program and updates write them in place; names bind to slots; errors
 * name the tensor; two programs can share params; and a training step
 * allocates nothing after its first run. */
#include "tests/testutil.h"
#include "backends/backend.h"
#include "base/alloc.h"
#include "frontend/optim.h"
#include "ir/ir.h"
#include "models/model.h"
#include "models/model_io.h"

#include <string.h>

/* w' = w - x; out = sum(w * x) */
static const char step_ir[] =
    "graph @step {\n"
    "  %x = input \"x\" : f64[3]\n"
    "  %w = param \"w\" : f64[3]\n"
    "  %p = mul %w, %x : f64[3]\n"
    "  %s = reduce_sum %p {axes=[0]} : f64[]\n"
    "  %n = sub %w, %x : f64[3]\n"
    "  output \"out\" = %s\n"
    "  update \"w\" = %n\n"
    "}\n";

static gc_program *compile_text(const char *text) {
  gc_diag d;
  gc_graph *g = gc_parse(text, strlen(text), &d);
  if (!g) fail_msg("parse: %s", d.msg);
  gc_program *p = gc_compile(g, NULL, &d);
  gc_graph_free(g);
  if (!p) fail_msg("compile: %s", d.msg);
  return p;
}

static gc_tensor *vec(double a, double b, double c) {
  gc_type t = gc_type_make(GC_F64, 1, (int64_t[]){3});
  gc_tensor *x = gc_tensor_new(&t);
  double v[3] = {a, b, c};
  memcpy(x->data, v, sizeof v);
  return x;
}

static void test_updates_in_place(void **state) {
  (void)state;
  gc_diag d;
  gc_program *p = compile_text(step_ir);
  gc_tensor_map params, inputs;
  gc_tensor_map_init(&params);
  gc_tensor_map_init(&inputs);
  gc_tensor_map_put(&params, "w", vec(1, 2, 3));
  gc_tensor_map_put(&inputs, "x", vec(1, 1, 1));
  assert_int_equal(gc_program_set_params(p, &params, true, &d), 0);
  assert_int_equal(gc_program_feed(p, &inputs, &d), 0);
  double *w = gc_program_param(p, "w")->data;
  for (int run = 0; run < 3; run++) {
    assert_int_equal(gc_program_run(p, &d), 0);
    /* out reads w before the update; the update then writes w in place */
    assert_close(gc_tensor_load(gc_program_output(p, "out"), 0), 6.0 - 3.0 * run, 0);
    assert_close(w[0], 1.0 - (run + 1), 0);
    assert_close(w[2], 3.0 - (run + 1), 0);
  }
  /* the caller's map is untouched until it asks for the params back */
  assert_close(gc_tensor_load(gc_tensor_map_get(&params, "w"), 0), 1, 0);
  assert_int_equal(gc_program_get_params(p, &params, &d), 0);
  assert_close(gc_tensor_load(gc_tensor_map_get(&params, "w"), 0), -2, 0);
  /* an input written through its slot is what the next run reads */
  ((double *)gc_program_input(p, "x")->data)[0] = 0;
  assert_int_equal(gc_program_run(p, &d), 0);
  assert_close(w[0], -2, 0);
  assert_null(gc_program_param(p, "nope"));
  assert_null(gc_program_output(p, "nope"));
  gc_tensor_map_clear(&params);
  gc_tensor_map_clear(&inputs);
  gc_program_free(p);
}

/* gc_compile runs plan last whatever the pipeline asked for, so every
 * backend runs the places the plan wrote in the program's graph. */
static void test_plan_always_runs(void **state) {
  (void)state;
  const char *pipelines[] = {"", "fuse", "fuse,plan,cse", "simplify,plan"};
  const char *backends[] = {"interp", "llvm"};
  gc_diag d;
  gc_graph *g = gc_parse(step_ir, strlen(step_ir), &d);
  if (!g) fail_msg("parse: %s", d.msg);
  for (int i = 0; i < 4; i++)
    for (int b = 0; b < 2; b++) {
      gc_compile_options o;
      gc_compile_options_init(&o);
      o.passes = pipelines[i];
      o.backend = backends[b];
      gc_program *p = gc_compile(g, &o, &d);
      if (!p) fail_msg("%s on %s: %s", pipelines[i], backends[b], d.msg);
      const gc_graph *pg = gc_program_graph(p);
      int out = gc_graph_find_output(pg, "out");
      if (!pg->nodes[out]->planned) fail_msg("%s on %s: the output has no place", pipelines[i], backends[b]);
      assert_string_equal(pg->nodes[pg->updates[0].node]->into, "w");
      ((double *)gc_program_param(p, "w")->data)[1] = 2;
      ((double *)gc_program_input(p, "x")->data)[1] = 1;
      assert_int_equal(gc_program_run(p, &d), 0);
      assert_close(gc_tensor_load(gc_program_output(p, "out"), 0), 2, 0);
      assert_close(((double *)gc_program_param(p, "w")->data)[1], 1, 0);
      gc_program_free(p);
    }
  gc_graph_free(g);
}

static void test_errors_name_the_tensor(void **state) {
  (void)state;
  gc_diag d;
  gc_program *p = compile_text(step_ir);
  gc_tensor_map m;
  gc_tensor_map_init(&m);
  assert_int_equal(gc_program_set_params(p, &m, true, &d), -1);
  assert_non_null(strstr(d.msg, "param \"w\" is missing"));
  assert_int_equal(gc_program_feed(p, &m, &d), -1);
  assert_non_null(strstr(d.msg, "input \"x\" is missing"));
  gc_type t = gc_type_make(GC_F32, 1, (int64_t[]){3});
  gc_tensor_map_put(&m, "w", gc_tensor_new(&t));
  assert_int_equal(gc_program_set_params(p, &m, true, &d), -1);
  assert_non_null(strstr(d.msg, "param \"w\": expected f64[3], got f32[3]"));
  assert_int_equal(gc_program_set_params(p, NULL, false, &d), 0);   /* nothing required */
  gc_tensor_map_clear(&m);
  gc_program_free(p);

  gc_compile_options o;
  gc_compile_options_init(&o);
  o.backend = "no-such-backend";
  gc_graph *g = gc_parse(step_ir, strlen(step_ir), &d);
  assert_null(gc_compile(g, &o, &d));
  assert_non_null(strstr(d.msg, "unknown backend 'no-such-backend'"));
  assert_non_null(strstr(d.msg, "interp"));
  gc_graph_free(g);
}

static void test_shared_params(void **state) {
  (void)state;
  gc_diag d;
  gc_program *train = compile_text(step_ir);
  gc_program *eval = compile_text(
      "graph @eval {\n  %w = param \"w\" : f64[3]\n  %s = reduce_sum %w {axes=[0]} : f64[]\n"
      "  output \"sum\" = %s\n}\n");
  gc_tensor_map m;
  gc_tensor_map_init(&m);
  gc_tensor_map_put(&m, "w", vec(1, 2, 3));
  gc_tensor_map_put(&m, "x", vec(1, 1, 1));
  assert_int_equal(gc_program_set_params(train, &m, true, &d), 0);
  assert_int_equal(gc_program_feed(train, &m, &d), 0);
  assert_int_equal(gc_program_share_params(eval, train, &d), 0);
  assert_int_equal(gc_program_run(eval, &d), 0);
  assert_close(gc_tensor_load(gc_program_output(eval, "sum"), 0), 6, 0);
  assert_int_equal(gc_program_run(train, &d), 0);   /* w -= 1 */
  assert_int_equal(gc_program_run(eval, &d), 0);
  assert_close(gc_tensor_load(gc_program_output(eval, "sum"), 0), 3, 0);
  gc_tensor_map_clear(&m);
  gc_program_free(eval);
  gc_program_free(train);
}

/* An update that reads another param sees it before any update is written. */
static void test_updates_read_old_values(void **state) {
  (void)state;
  gc_diag d;
  gc_program *p = compile_text(
      "graph @swap {\n  %a = param \"a\" : f64[3]\n  %b = param \"b\" : f64[3]\n"
      "  update \"a\" = %b\n  update \"b\" = %a\n}\n");
  gc_tensor_map m;
  gc_tensor_map_init(&m);
  gc_tensor_map_put(&m, "a", vec(1, 2, 3));
  gc_tensor_map_put(&m, "b", vec(4, 5, 6));
  assert_int_equal(gc_program_set_params(p, &m, true, &d), 0);
  assert_int_equal(gc_program_run(p, &d), 0);
  assert_close(gc_tensor_load(gc_program_param(p, "a"), 0), 4, 0);
  assert_close(gc_tensor_load(gc_program_param(p, "b"), 0), 1, 0);
  gc_tensor_map_clear(&m);
  gc_program_free(p);
}

/* qwen2_tiny's whole training step: after the first run, runs allocate
 * nothing through the runtime's allocator, and the loss keeps changing
 * (the params are really updated in place). */
static void test_training_step_allocates_nothing(void **state) {
  (void)state;
  gc_diag d;
  gc_model_config c;
  gc_init_table *inits;
  gc_optim_config o;
  gc_optim_defaults(&o);
  if (gc_model_config_init(&c, "qwen2_tiny", &d)) fail_msg("%s", d.msg);
  gc_model_shape shape = {.batch = 2, .seq = 16, .training = true};
  gc_graph *g = gc_model_build(&c, &shape, &inits, &d);
  if (!g || gc_optim_append(g, "loss", &o, &d)) fail_msg("build: %s", d.msg);
  gc_tensor_map params, inputs;
  gc_tensor_map_init(&params);
  gc_tensor_map_init(&inputs);
  if (gc_init_params(g, inits, 1, &params, &d)) fail_msg("init: %s", d.msg);
  gc_type t = gc_type_make(GC_I64, 2, (int64_t[]){2, 16});
  gc_tensor *ids = gc_tensor_new(&t);
  for (int i = 0; i < 32; i++) ((int64_t *)ids->data)[i] = (i * 37) % 500 + 3;
  gc_tensor_map_put(&inputs, "input_ids", ids);
  gc_tensor_map_put(&inputs, "labels", gc_tensor_clone(ids));
  if (gc_model_complete_inputs(&c, g, &inputs, NULL, &d)) fail_msg("inputs: %s", d.msg);

  gc_program *p = gc_compile(g, NULL, &d);
  if (!p) fail_msg("compile: %s", d.msg);
  assert_int_equal(gc_program_set_params(p, &params, true, &d), 0);
  assert_int_equal(gc_program_feed(p, &inputs, &d), 0);
  assert_int_equal(gc_program_run(p, &d), 0);
  double first = gc_tensor_load(gc_program_output(p, "loss"), 0);
  uint64_t before = gc_alloc_count();
  double last = first;
  for (int i = 0; i < 3; i++) {
    assert_int_equal(gc_program_run(p, &d), 0);
    last = gc_tensor_load(gc_program_output(p, "loss"), 0);
  }
  assert_int_equal(gc_alloc_count() - before, 0);
  print_message("qwen2_tiny step: loss %.4f -> %.4f, 0 allocations in 3 runs after the first\n", first, last);
  assert_true(isfinite(last) && last < first);
  gc_program_free(p);
  gc_tensor_map_clear(&params);
  gc_tensor_map_clear(&inputs);
  gc_init_table_free(inits);
  gc_graph_free(g);
  gc_model_config_free(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_updates_in_place),
      cmocka_unit_test(test_plan_always_runs),
      cmocka_unit_test(test_errors_name_the_tensor),
      cmocka_unit_test(test_shared_params),
      cmocka_unit_test(test_updates_read_old_values),
      cmocka_unit_test(test_training_step_allocates_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
