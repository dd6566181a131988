/* Collectives (all_reduce, reduce_scatter, all_gather) on the backend under
 * test, through the communicator of the process: alone, the local one (one
 * rank); under `mpirun -np 2` (ctest's backend_test_collective_mpi_* runs),
 * Open MPI's.  Each rank feeds values that depend on its rank, so the
 * expected results are the sums over ranks, in rank order.
 *
 * gc-test: every backend
 * gc-test: mpirun -np 2 */
#include "tests/backend_param.h"
#include "autodiff/autodiff.h"
#include "backends/runtime/comm.h"
#include "passes/pass.h"

static gc_comm *world;

static int setup(void **state) {
  (void)state;
  gc_diag d = {0};
  world = gc_comm_world(&d);
  if (!world) fprintf(stderr, "%s\n", d.msg);
  return world ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  gc_comm_free(world);
  return 0;
}

enum { ROWS = 4, COLS = 3 };

static gc_type type2(gc_dtype dt, int64_t rows, int64_t cols) { return gc_type_make(dt, 2, (int64_t[]){rows, cols}); }

static int add(gc_graph *g, gc_op op, int x, const gc_attrs *a, const gc_type *t) {
  gc_diag d;
  int id = gc_graph_add(g, op, x >= 0 ? &x : NULL, x >= 0 ? 1 : 0, a, t, &d);
  if (id < 0) fail_msg("%s", d.msg);
  return id;
}

/* Rank r's element i: (r + 1) * (i + 1) / 2, exact in f32. */
static double element(int rank, int64_t i) { return (rank + 1) * (double)(i + 1) * 0.5; }

static gc_program *compile(const gc_graph *g) {
  gc_compile_options o = gc_test_compile_options();
  o.comm = world;
  gc_diag d;
  gc_program *p = gc_compile(g, &o, &d);
  if (!p) fail_msg("compile: %s", d.msg);
  return p;
}

static void feed(gc_program *p, const char *name) {
  gc_tensor *x = gc_program_input(p, name);
  for (int64_t i = 0; i < gc_tensor_numel(x); i++) gc_tensor_store(x, i, element(world->rank, i));
}

/* all_reduce (sum and mean) of a computed value, reduce_scatter and
 * all_gather of an input, each read by a kernel after it. */
static void check_collectives(gc_dtype dt) {
  int n = world->size;
  gc_graph *g = gc_graph_new("collectives");
  gc_type t = type2(dt, ROWS, COLS);
  int x = add(g, GC_OP_INPUT, -1, &(gc_attrs){.name = {.name = "x"}}, &t);
  int two = add(g, GC_OP_CONST, -1, &(gc_attrs){.value = {.value = 2}}, &t);
  int one = add(g, GC_OP_CONST, -1, &(gc_attrs){.value = {.value = 1}}, &t);
  gc_diag d;
  int x2 = gc_graph_add(g, GC_OP_MUL, (int[]){x, two}, 2, NULL, NULL, &d);
  int sum = add(g, GC_OP_ALL_REDUCE, x2, NULL, NULL);
  int sum1 = gc_graph_add(g, GC_OP_ADD, (int[]){sum, one}, 2, NULL, NULL, &d);
  int mean = add(g, GC_OP_ALL_REDUCE, x, &(gc_attrs){.collective = {.mean = true}}, NULL);
  gc_type part = type2(dt, ROWS / n, COLS), whole = type2(dt, ROWS * n, COLS);
  int rs = add(g, GC_OP_REDUCE_SCATTER, x, NULL, &part);
  int ag = add(g, GC_OP_ALL_GATHER, x, NULL, &whole);
  assert_int_equal(gc_graph_add_output(g, "sum1", sum1, &d), 0);
  assert_int_equal(gc_graph_add_output(g, "mean", mean, &d), 0);
  assert_int_equal(gc_graph_add_output(g, "rs", rs, &d), 0);
  assert_int_equal(gc_graph_add_output(g, "ag", ag, &d), 0);
  gc_program *p = compile(g);
  feed(p, "x");
  for (int run = 0; run < 2; run++) {   /* a second run reuses every buffer */
    if (gc_program_run(p, &d)) fail_msg("run: %s", d.msg);
    const gc_tensor *o_sum = gc_program_output(p, "sum1"), *o_mean = gc_program_output(p, "mean");
    const gc_tensor *o_rs = gc_program_output(p, "rs"), *o_ag = gc_program_output(p, "ag");
    for (int64_t i = 0; i < ROWS * COLS; i++) {
      double s = 0;
      for (int r = 0; r < n; r++) s += element(r, i);
      assert_close(gc_tensor_load(o_sum, i), 2 * s + 1, 0);
      assert_close(gc_tensor_load(o_mean, i), s / n, 0);
    }
    for (int64_t i = 0; i < ROWS / n * COLS; i++) {
      int64_t at = world->rank * (ROWS / n) * COLS + i;
      double s = 0;
      for (int r = 0; r < n; r++) s += element(r, at);
      assert_close(gc_tensor_load(o_rs, i), s, 0);
    }
    for (int r = 0; r < n; r++)
      for (int64_t i = 0; i < ROWS * COLS; i++) assert_close(gc_tensor_load(o_ag, r * ROWS * COLS + i), element(r, i), 0);
  }
  gc_program_free(p);
  gc_graph_free(g);
}

static void test_collectives_f32(void **state) {
  (void)state;
  check_collectives(GC_F32);
}

static void test_collectives_f64(void **state) {
  (void)state;
  check_collectives(GC_F64);
}

/* The gradient of an all-reduced sum is the all-reduced gradient: with
 * loss_r = sum(all_reduce(x_r * w_r)), d(sum_r loss_r)/dw_s = N * x_s. */
static void test_gradient(void **state) {
  (void)state;
  gc_graph *g = gc_graph_new("grad");
  gc_type t = type2(GC_F64, ROWS, COLS);
  gc_diag d;
  int x = add(g, GC_OP_INPUT, -1, &(gc_attrs){.name = {.name = "x"}}, &t);
  int w = add(g, GC_OP_PARAM, -1, &(gc_attrs){.name = {.name = "w"}}, &t);
  int xw = gc_graph_add(g, GC_OP_MUL, (int[]){x, w}, 2, NULL, NULL, &d);
  int y = add(g, GC_OP_ALL_REDUCE, xw, NULL, NULL);
  gc_attrs axes = {.reduce = {.axes = {2, {0, 1}}}};
  int loss = gc_graph_add(g, GC_OP_REDUCE_SUM, &y, 1, &axes, NULL, &d);
  assert_int_equal(gc_graph_add_output(g, "loss", loss, &d), 0);
  if (gc_grad_outputs(g, "loss", &d)) fail_msg("grad: %s", d.msg);
  gc_program *p = compile(g);
  feed(p, "x");
  gc_tensor *wt = gc_program_param(p, "w");
  for (int64_t i = 0; i < ROWS * COLS; i++) gc_tensor_store(wt, i, 1.0 + (double)i);
  if (gc_program_run(p, &d)) fail_msg("run: %s", d.msg);
  const gc_tensor *gw = gc_program_output(p, "grad.w");
  assert_non_null(gw);
  for (int64_t i = 0; i < ROWS * COLS; i++) assert_close(gc_tensor_load(gw, i), world->size * element(world->rank, i), 0);
  gc_program_free(p);
  gc_graph_free(g);
}

/* cse never merges two collectives, dce never drops one, fuse puts each in
 * a kernel of its own. */
static void test_passes_keep_collectives(void **state) {
  (void)state;
  gc_graph *g = gc_graph_new("keep");
  gc_type t = type2(GC_F32, ROWS, COLS);
  gc_diag d;
  int x = add(g, GC_OP_INPUT, -1, &(gc_attrs){.name = {.name = "x"}}, &t);
  int a = add(g, GC_OP_ALL_REDUCE, x, NULL, NULL);
  int b = add(g, GC_OP_ALL_REDUCE, x, NULL, NULL);
  add(g, GC_OP_ALL_REDUCE, x, NULL, NULL);   /* read by nothing */
  int s = gc_graph_add(g, GC_OP_ADD, (int[]){a, b}, 2, NULL, NULL, &d);
  assert_int_equal(gc_graph_add_output(g, "s", s, &d), 0);
  gc_graph *out = gc_run_passes(g, "simplify,cse,dce,fuse,plan", NULL, &d);
  if (!out) fail_msg("passes: %s", d.msg);
  int collectives = 0;
  for (int i = 0; i < out->n_nodes; i++) {
    const gc_node *n = out->nodes[i];
    if (!gc_op_is_collective(n->op)) continue;
    collectives++;
    assert_true(n->kernel > 0);
    for (int j = 0; j < out->n_nodes; j++)
      if (j != i) assert_int_not_equal(out->nodes[j]->kernel, n->kernel);
  }
  assert_int_equal(collectives, 3);
  gc_graph_free(out);
}

/* A reduce_scatter whose operand is not the world's parts is an error that
 * names the node. */
static void test_world_mismatch(void **state) {
  (void)state;
  gc_graph *g = gc_graph_new("mismatch");
  gc_type t = type2(GC_F32, ROWS, COLS), part = type2(GC_F32, 1, COLS);
  int x = add(g, GC_OP_INPUT, -1, &(gc_attrs){.name = {.name = "x"}}, &t);
  int rs = add(g, GC_OP_REDUCE_SCATTER, x, NULL, &part);
  gc_diag d;
  assert_int_equal(gc_graph_add_output(g, "rs", rs, &d), 0);
  gc_program *p = compile(g);
  int rc = gc_program_run(p, &d);
  if (world->size == ROWS) {
    assert_int_equal(rc, 0);
  } else {
    assert_int_equal(rc, -1);
    assert_non_null(strstr(d.msg, "reduce_scatter %1"));
    assert_non_null(strstr(d.msg, "axis 0 is 4 long"));
  }
  gc_program_free(p);
  gc_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_collectives_f32),
      cmocka_unit_test(test_collectives_f64),
      cmocka_unit_test(test_gradient),
      cmocka_unit_test(test_passes_keep_collectives),
      cmocka_unit_test(test_world_mismatch),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
