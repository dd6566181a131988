/* Deep graphs: chains of tens of thousands of nodes through each stage that
 * used to recurse once per node (fuse's walks, simplify's -0 test, a chain
 * of views, the lowering of a kernel's values), each run on a thread with a
 * 256 KiB stack: a recursion as deep as the chain overflows it and crashes
 * the test.  The results are checked by value: the interpreter runs the
 * optimised chain, kernels stay within fuse's bound, dumps read back. */
#include "tests/testutil.h"
#include "backends/interp/interp.h"
#include "codegen/lower.h"
#include "passes/pass.h"
#include "codegen/split.h"
#include "ir/view.h"
#include "base/strbuf.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { CHAIN = 20000, SMALL_STACK = 256 * 1024 };

/* ---- running on a small stack ------------------------------------------- */

typedef void job_fn(void *arg);
typedef struct {
  job_fn *fn;
  void *arg;
} job;

static void *run_job(void *p) {
  job *j = p;
  j->fn(j->arg);
  return NULL;
}

static void on_small_stack(job_fn *fn, void *arg) {
  pthread_attr_t a;
  pthread_t t;
  job j = {fn, arg};
  assert_int_equal(pthread_attr_init(&a), 0);
  assert_int_equal(pthread_attr_setstacksize(&a, SMALL_STACK), 0);
  assert_int_equal(pthread_create(&t, &a, run_job, &j), 0);
  assert_int_equal(pthread_join(t, NULL), 0);
  pthread_attr_destroy(&a);
}

/* ---- texts ---------------------------------------------------------------- */

static gc_graph *parse_text(gc_strbuf *t) {
  size_t len = t->len;
  char *s = gc_strbuf_take(t);
  assert_non_null(s);
  gc_diag d;
  gc_graph *g = gc_parse(s, len, &d);
  if (!g) fail_msg("%d:%d: %s", d.line, d.col, d.msg);
  free(s);
  return g;
}

/* %v0 = OP %x[, %x], %vI = OP %vI-1[, %x], ..., output "y" = the last. */
static gc_graph *chain(const char *op, bool binary, const char *type, int n) {
  gc_strbuf t = {0};
  gc_strbuf_printf(&t, "graph @chain {\n  %%x = input \"x\" : %s\n", type);
  for (int i = 0; i < n; i++) {
    char prev[32];
    snprintf(prev, sizeof prev, i ? "%%v%d" : "%%x", i - 1);
    gc_strbuf_printf(&t, "  %%v%d = %s %s%s : %s\n", i, op, prev, binary ? ", %x" : "", type);
  }
  gc_strbuf_printf(&t, "  output \"y\" = %%v%d\n}\n", n - 1);
  return parse_text(&t);
}

/* ---- the default pipeline on chains --------------------------------------- */

typedef struct {
  gc_graph *g;
  const char *pipeline;
} pipeline_job;

static void run_pipeline(void *p) {
  pipeline_job *j = p;
  gc_diag d;
  gc_pass_options o;
  gc_pass_options_init(&o);
  j->g = gc_run_passes(j->g, j->pipeline, &o, &d);
  if (!j->g) fail_msg("%s", d.msg);
}

/* Every kernel holds at most 256 nodes (fuse's bound: 1024 units, 4 a
 * node), kernels are numbered in order, and the whole has `n` nodes in
 * `kernels` kernels at least. */
static void check_kernels(const gc_graph *g, int min_kernels) {
  int *size = calloc((size_t)g->n_kernels + 1, sizeof *size);
  assert_non_null(size);
  for (int i = 0; i < g->n_nodes; i++) size[g->nodes[i]->kernel]++;
  for (int k = 1; k <= g->n_kernels; k++) {
    assert_true(size[k] >= 1);
    assert_true(size[k] <= 256);
  }
  assert_true(g->n_kernels >= min_kernels);
  free(size);
}

/* print(parse(print(g))) == print(g), and the default pipeline on the dump
 * gives it back unchanged. */
static void check_reads_back(const gc_graph *g) {
  char *a = gc_print(g);
  assert_non_null(a);
  gc_diag d;
  gc_graph *h = gc_parse(a, strlen(a), &d);
  if (!h) fail_msg("the dump does not read back: %d:%d: %s", d.line, d.col, d.msg);
  char *b = gc_print(h);
  assert_string_equal(a, b);
  pipeline_job j = {h, NULL};
  on_small_stack(run_pipeline, &j);
  char *c = gc_print(j.g);
  assert_string_equal(a, c);
  free(a), free(b), free(c);
  gc_graph_free(j.g);
}

/* Runs g on the interpreter with x[i] = 1 + i/8 and returns y (f64[4]). */
static void run_f64x4(const gc_graph *g, double y[4]) {
  gc_type t = {.dtype = GC_F64, .rank = 1, .dims = {4}};
  gc_tensor_map params, inputs, out;
  gc_tensor_map_init(&params), gc_tensor_map_init(&inputs), gc_tensor_map_init(&out);
  gc_tensor *x = gc_tensor_new(&t);
  for (int i = 0; i < 4; i++) ((double *)x->data)[i] = 1 + i / 8.0;
  gc_tensor_map_put(&inputs, "x", x);
  gc_diag d;
  if (gc_interp_run(g, &params, &inputs, &out, &d)) fail_msg("%s", d.msg);
  const gc_tensor *r = gc_tensor_map_get(&out, "y");
  assert_non_null(r);
  memcpy(y, r->data, 4 * sizeof *y);
  gc_tensor_map_clear(&params), gc_tensor_map_clear(&inputs), gc_tensor_map_clear(&out);
}

/* x + x + ... + x: small values, so every add is computed where it is read
 * (fuse walked such a chain by recursion), and y = (n + 1) x exactly. */
static void test_chain_of_small_adds(void **state) {
  (void)state;
  pipeline_job j = {chain("add", true, "f64[4]", CHAIN), NULL};
  on_small_stack(run_pipeline, &j);
  check_kernels(j.g, CHAIN / 256);
  double y[4];
  run_f64x4(j.g, y);
  for (int i = 0; i < 4; i++) assert_true(y[i] == (CHAIN + 1) * (1 + i / 8.0));
  check_reads_back(j.g);
  gc_graph_free(j.g);
}

/* exp(exp(...)) over 1024 elements: every node is a kernel's own, and
 * kernels merge along the chain (one merge per node). */
static void test_chain_of_large_exps(void **state) {
  (void)state;
  pipeline_job j = {chain("exp", false, "f32[1024]", CHAIN), NULL};
  on_small_stack(run_pipeline, &j);
  check_kernels(j.g, CHAIN / 256);
  check_reads_back(j.g);
  gc_graph_free(j.g);
}

/* ((e + e) + (e + e)) ... + 0 where e = exp(x): simplify asks whether the
 * left side can be -0 (then x + 0 is not x); it never can, so the last add
 * goes.  The same from x (which may be -0) keeps it: every add's two
 * operands are one value, which a recursive test looked at twice per
 * level (2^n) as well as once per node deep. */
static gc_graph *doubling(bool from_exp) {
  gc_strbuf t = {0};
  gc_strbuf_printf(&t, "graph @doubling {\n  %%x = input \"x\" : f64[4]\n  %%z = const 0 : f64[4]\n");
  gc_strbuf_printf(&t, from_exp ? "  %%v0 = exp %%x : f64[4]\n" : "  %%v0 = neg %%x : f64[4]\n");
  for (int i = 1; i < CHAIN; i++) gc_strbuf_printf(&t, "  %%v%d = add %%v%d, %%v%d : f64[4]\n", i, i - 1, i - 1);
  gc_strbuf_printf(&t, "  %%y = add %%v%d, %%z : f64[4]\n  output \"y\" = %%y\n}\n", CHAIN - 1);
  return parse_text(&t);
}

static void test_simplify_deep_adds(void **state) {
  (void)state;
  for (int from_exp = 0; from_exp < 2; from_exp++) {
    pipeline_job j = {doubling(from_exp), "simplify"};
    int before = j.g->n_nodes;
    on_small_stack(run_pipeline, &j);
    int y = j.g->outputs[0].node;
    if (from_exp) {
      assert_int_equal(j.g->nodes[y]->op, GC_OP_ADD);   /* the chain's last add, not + 0 */
      assert_int_equal(j.g->nodes[y]->in[0], j.g->nodes[y]->in[1]);
      assert_int_equal(j.g->n_nodes, before - 1);
    } else {
      assert_int_equal(j.g->nodes[j.g->nodes[y]->in[1]]->op, GC_OP_CONST);   /* kept: x + 0 */
      assert_int_equal(j.g->n_nodes, before);
    }
    gc_graph_free(j.g);
  }
}

/* ---- a chain of views --------------------------------------------------------- */

typedef struct {
  const gc_graph *g;
  gc_view v;
  bool ok;
} view_job;

static void run_view(void *p) {
  view_job *j = p;
  j->ok = gc_view_of(j->g, j->g->n_nodes - 1, NULL, NULL, &j->v);
}

/* 20,000 transposes of an f32[3,5] (then [5,3], ...) and one slice: the
 * view of the last is the input with strides swapped an even number of
 * times, offset by the slice. */
static void test_view_of_long_chain(void **state) {
  (void)state;
  gc_strbuf t = {0};
  gc_strbuf_printf(&t, "graph @views {\n  %%x = input \"x\" : f32[3,5]\n");
  for (int i = 0; i < CHAIN; i++) {
    char prev[32];
    snprintf(prev, sizeof prev, i ? "%%t%d" : "%%x", i - 1);
    gc_strbuf_printf(&t, "  %%t%d = transpose %s {perm=[1,0]} : f32[%s]\n", i, prev, i % 2 ? "3,5" : "5,3");
  }
  gc_strbuf_printf(&t, "  %%s = slice %%t%d {start=[1,2], stop=[3,5]} : f32[2,3]\n  output \"s\" = %%s\n}\n", CHAIN - 1);
  view_job j = {.g = parse_text(&t)};
  on_small_stack(run_view, &j);
  assert_true(j.ok);
  assert_int_equal(j.v.base, 0);
  assert_int_equal(j.v.rank, 2);
  assert_int_equal(j.v.dims[0], 2);
  assert_int_equal(j.v.dims[1], 3);
  assert_int_equal(j.v.strides[0], 5);
  assert_int_equal(j.v.strides[1], 1);
  assert_int_equal(j.v.offset, 1 * 5 + 2);
  gc_graph_free((gc_graph *)j.g);
}

/* ---- lowering one long kernel ------------------------------------------------- */

typedef struct {
  const gc_graph *g;
  gc_loop_fn *fn;
  int *buffer_nodes;
} lower_job;

static void run_lower(void *p) {
  lower_job *j = p;
  int *nodes = malloc(sizeof *nodes * (size_t)j->g->n_nodes), n = 0;
  assert_non_null(nodes);
  for (int i = 0; i < j->g->n_nodes; i++)
    if (j->g->nodes[i]->kernel) nodes[n++] = i;
  gc_kernel_ref k = {j->g, nodes, n, "k0", NULL, NULL, NULL};
  gc_diag d;
  j->fn = gc_lower_kernel(&k, &j->buffer_nodes, &d);
  if (!j->fn) fail_msg("%s", d.msg);
  free(nodes);
  gc_split_loops(j->fn, 8);   /* intervals of every integer value, folded */
}

/* One kernel of CHAIN ops OP over TYPE, each reading the one before (and
 * %x when binary). */
static const gc_graph *long_kernel(const char *op, bool binary, const char *type) {
  gc_strbuf t = {0};
  gc_strbuf_printf(&t, "graph @long {\n  %%x = input \"x\" : %s\n  kernel @k0(%%x) -> (%%v%d) {\n", type, CHAIN - 1);
  for (int i = 0; i < CHAIN; i++) {
    char prev[32];
    snprintf(prev, sizeof prev, i ? "%%v%d" : "%%x", i - 1);
    gc_strbuf_printf(&t, "    %%v%d = %s %s%s : %s\n", i, op, prev, binary ? ", %x" : "", type);
  }
  gc_strbuf_printf(&t, "  }\n  output \"y\" = %%v%d\n}\n", CHAIN - 1);
  return parse_text(&t);
}

/* Lowers (and splits) a long kernel of op on a small stack: its loop body
 * computes each node once, in order, and reads and writes the two buffers
 * x and y. */
static void check_long_kernel(const char *op, gc_op gop, bool binary, const char *type) {
  lower_job j = {.g = long_kernel(op, binary, type)};
  on_small_stack(run_lower, &j);
  int count = 0;
  for (int i = 0; i < j.fn->n_insts; i++) count += j.fn->insts[i].op == GC_L_OP && j.fn->insts[i].gop == gop;
  assert_int_equal(count, CHAIN);
  assert_int_equal(j.fn->n_buffers, 2);
  assert_int_equal(j.buffer_nodes[0], 0);
  assert_int_equal(j.buffer_nodes[1], CHAIN);
  gc_loop_free(j.fn);
  free(j.buffer_nodes);
  gc_graph_free((gc_graph *)j.g);
}

/* One kernel of 20,000 chained tanh, and one of 20,000 chained integer adds
 * (whose intervals the loop splitting computes), written as kernel regions
 * (fuse would cut them). */
static void test_lower_long_kernel(void **state) {
  (void)state;
  check_long_kernel("tanh", GC_OP_TANH, false, "f32[16]");
  check_long_kernel("add", GC_OP_ADD, true, "i64[16]");
}

int main(int argc, char **argv) {
  if (argc > 1) cmocka_set_test_filter(argv[1]);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_chain_of_small_adds), cmocka_unit_test(test_chain_of_large_exps),
      cmocka_unit_test(test_simplify_deep_adds),  cmocka_unit_test(test_view_of_long_chain),
      cmocka_unit_test(test_lower_long_kernel),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
