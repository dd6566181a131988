/* The llvm backend against the interpreter, on what the parametrised suites
 * do not reach (this suite is about two backends, so it runs once):
 *
 *  - odd shapes: prime extents (no multiple of any vector width), size-1 axes
 *    and zero-size axes through elementwise chains, broadcasts, reductions,
 *    dot (both transposes, batch broadcasting, K = 0, M = 0, shapes past the
 *    GEMM's register and cache blocks, one row: the matrix-vector products), gather and scatter_add; every output
 *    within 1e-12 (f64) or 1e-5 (f32) of the interpreter's, relative to the
 *    tensor's largest element, integers and bools exact;
 *  - the edges of pads, concats and slices (RoPE's rotate-half forward and
 *    backward through a flattening reshape, odd offsets): the loops the
 *    backend cuts there (codegen/split.c) give the interpreter's results;
 *  - buffers stored over the ones a kernel reads (an update into its param,
 *    a result over a dying operand, not one bound to an output): the
 *    emitter gives them one pointer; results as the interpreter's;
 *  - threads: five training steps of qwen2_tiny compiled with 1 and with 2
 *    threads give bitwise the same loss at every step and bitwise the same
 *    params (weights and optimizer state) after them;
 *  - the kernel cache: a program compiled from the cache (every entry a hit:
 *    no entry rewritten) gives bitwise the results of the cold compile, and
 *    so does one compiled after every entry was corrupted (each is ignored
 *    and rebuilt: valid again afterwards);
 *  - run-time errors: an out-of-range gather or scatter_add index, also
 *    inside a fused kernel whose loop runs on several threads, is an error
 *    naming the node (op, label) and the index, never a crash or a wild read;
 *    the program runs again once the index is fixed; a label is printed
 *    verbatim, whatever characters it holds.
 *
 * Each test builds one graph holding all its cases (f32 and f64 together),
 * so each costs one LLVM compile. */
#include "tests/autodiff/gradcheck.h"
#include "tests/autodiff/graphs.h"
#include "backends/interp/interp.h"
#include "backends/llvm/cache.h"
#include "backends/llvm/host.h"
#include "frontend/optim.h"
#include "models/model.h"
#include "models/model_io.h"
#include "passes/pass.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- a graph, its values, and llvm against interp -------------------------- */

typedef struct {
  gc_graph *g;
  gc_tensor_map params, inputs;
  gc_test_rng rng;
  int n;
} fx;

static void fx_init(fx *f, const char *name, uint64_t seed) {
  f->g = gc_graph_new(name);
  gc_tensor_map_init(&f->params);
  gc_tensor_map_init(&f->inputs);
  f->rng.s = seed * 0x9E3779B97F4A7C15ull + 7;
  f->n = 0;
}

static void fx_free(fx *f) {
  gc_graph_free(f->g);
  gc_tensor_map_clear(&f->params);
  gc_tensor_map_clear(&f->inputs);
}

/* An input of uniform values in [lo, hi] (integers: rounded down). */
static int fx_input(fx *f, gc_type t, double lo, double hi) {
  char name[32];
  snprintf(name, sizeof name, "x%d", f->n++);
  gc_tensor *x = gc_tensor_new(&t);
  assert_non_null(x);
  for (int64_t i = 0; i < gc_tensor_numel(x); i++) {
    double v = gc_test_rng_range(&f->rng, lo, hi);
    gc_tensor_store(x, i, gc_dtype_is_float(t.dtype) ? v : floor(v));
  }
  gc_tensor_map_put(&f->inputs, name, x);
  return gb_input(f->g, name, t);
}

/* An integer input with the given values. */
static int fx_index(fx *f, gc_type t, const int64_t *v) {
  char name[32];
  snprintf(name, sizeof name, "x%d", f->n++);
  gc_tensor *x = gc_tensor_new(&t);
  for (int64_t i = 0; i < gc_tensor_numel(x); i++) gc_tensor_store(x, i, (double)v[i]);
  gc_tensor_map_put(&f->inputs, name, x);
  return gb_input(f->g, name, t);
}

/* Output `node` under a name saying what it is ("%d: what"). */
static void fx_out(fx *f, int node, const char *what) {
  char name[400];
  snprintf(name, sizeof name, "%d: %.380s", f->g->n_outputs, what);
  gb_output(f->g, name, node);
}

static gc_program *llvm_program(const gc_graph *g, int threads, const gc_tensor_map *params,
                                const gc_tensor_map *inputs) {
  gc_compile_options o = gc_test_compile_options();   /* $GC_TEST_PASSES, if set */
  o.backend = "llvm";
  if (!getenv("GC_TEST_PASSES")) o.passes = NULL;
  o.threads = threads;
  return gc_test_compile_with(g, &o, params, inputs);
}

/* Every output on llvm against interp. */
static void fx_compare(fx *f) {
  gc_diag d;
  gc_tensor_map want, got, params;
  gc_tensor_map_init(&want);
  gc_tensor_map_init(&got);
  gc_tensor_map_init(&params);
  for (int i = 0; i < f->params.n; i++) gc_tensor_map_put(&params, f->params.names[i], gc_tensor_clone(f->params.tensors[i]));
  if (gc_interp_run(f->g, &params, &f->inputs, &want, &d)) fail_msg("%s on interp: %s", f->g->name, d.msg);
  gc_program *p = llvm_program(f->g, 0, &f->params, &f->inputs);
  gc_test_rerun(p, NULL);
  if (gc_program_get_outputs(p, &got, &d)) fail_msg("%s", d.msg);
  double worst[2] = {0, 0};
  for (int i = 0; i < want.n; i++) {
    const gc_tensor *w = want.tensors[i];
    char what[600];
    snprintf(what, sizeof what, "%s, output \"%s\" (%s), llvm against interp", f->g->name, want.names[i],
             gc_dtype_name(w->type.dtype));
    double e = gc_test_expect_close(what, gc_tensor_map_get(&got, want.names[i]), w,
                                    gc_test_backend_tol(w->type.dtype), 1e-300);
    int k = w->type.dtype == GC_F32;
    if (e > worst[k]) worst[k] = e;
  }
  printf("%s: %d outputs agree (worst relative difference f64 %.3g, f32 %.3g)\n", f->g->name, want.n, worst[0],
         worst[1]);
  gc_program_free(p);
  gc_tensor_map_clear(&want);
  gc_tensor_map_clear(&got);
  gc_tensor_map_clear(&params);
}

static gc_type ty(gc_dtype dt, int rank, const int64_t *dims) { return gc_type_make(dt, rank, dims); }

static const char *shape_str(gc_type t, char *buf) {
  gc_type_str(&t, buf, GC_TYPE_STR_MAX);
  return buf;
}

/* ---- odd shapes ------------------------------------------------------------ */

typedef struct {
  int rank;
  int64_t dims[4];
} shape;

static const shape odd[] = {
    {2, {7, 13}}, {2, {1, 31}}, {1, {37}}, {0, {0}}, {4, {2, 1, 1, 17}}, {1, {1}}, {2, {3, 67}}, {1, {4099}},
};
static const shape empty[] = {{2, {0, 5}}, {3, {3, 0, 2}}, {1, {0}}};

/* Per shape one fused chain of every kind of elementwise op; integer
 * arithmetic and a comparison on it. */
static void elementwise_cases(fx *f, const shape *shapes, int n) {
  const gc_dtype dts[2] = {GC_F64, GC_F32};
  char buf[GC_TYPE_STR_MAX];
  for (int k = 0; k < 2; k++)
    for (int s = 0; s < n; s++) {
      gc_type t = ty(dts[k], shapes[s].rank, shapes[s].dims);
      int a = fx_input(f, t, -2, 2), b = fx_input(f, t, 0.5, 2);
      gc_graph *g = f->g;
      int y = gb_bin(g, GC_OP_MUL, gb_un(g, GC_OP_EXP, a), gb_un(g, GC_OP_TANH, b));
      y = gb_where(g, gb_bin(g, GC_OP_LT, a, b), y, gb_bin(g, GC_OP_DIV, gb_bin(g, GC_OP_MAX, a, b), b));
      y = gb_bin(g, GC_OP_ADD, y, gb_un(g, GC_OP_SIGMOID, a));
      y = gb_bin(g, GC_OP_SUB, y, gb_un(g, GC_OP_LOG, b));
      y = gb_bin(g, GC_OP_ADD, y, gb_bin(g, GC_OP_POW, b, a));
      y = gb_bin(g, GC_OP_MUL, y, gb_un(g, GC_OP_ERF, gb_un(g, GC_OP_SIN, a)));
      y = gb_bin(g, GC_OP_SUB, y, gb_un(g, GC_OP_RSQRT, b));
      fx_out(f, y, shape_str(t, buf));
      /* the same shape's values as integers, and a comparison */
      gc_type ti = t;
      ti.dtype = k ? GC_I32 : GC_I64;
      int c = gb_cast(g, gb_bin(g, GC_OP_MUL, a, gb_const_like(g, 20, a)), ti.dtype);
      int e = fx_input(f, ti, -5, 5);
      int z = gb_bin(g, GC_OP_ADD, gb_bin(g, GC_OP_DIV, c, e), gb_bin(g, GC_OP_MUL, c, e));
      fx_out(f, z, shape_str(ti, buf));
      fx_out(f, gb_bin(g, GC_OP_LE, a, gb_cast(g, z, t.dtype)), "le");
    }
}

/* Odd shapes through elementwise chains; broadcasts from size-1 and missing
 * axes. */
static void test_odd_elementwise(void **state) {
  (void)state;
  fx f;
  fx_init(&f, "odd elementwise", 1);
  const gc_dtype dts[2] = {GC_F64, GC_F32};
  elementwise_cases(&f, odd, sizeof odd / sizeof *odd);
  /* broadcasts: a column, a row, a scalar and a rank extension */
  for (int k = 0; k < 2; k++) {
    gc_dtype dt = dts[k];
    int x = fx_input(&f, ty(dt, 2, (int64_t[]){7, 13}), -1, 1);
    int col = fx_input(&f, ty(dt, 2, (int64_t[]){7, 1}), -1, 1);
    int row = fx_input(&f, ty(dt, 1, (int64_t[]){13}), -1, 1);
    int sc = fx_input(&f, ty(dt, 0, NULL), -1, 1);
    int y = gb_nb(f.g, GC_OP_ADD, gb_nb(f.g, GC_OP_MUL, x, col), row);
    y = gb_nb(f.g, GC_OP_SUB, y, sc);
    fx_out(&f, y, "broadcast column, row, scalar");
    int r3 = gb_bcast(f.g, col, ty(dt, 3, (int64_t[]){3, 7, 13}));
    fx_out(&f, gb_bin(f.g, GC_OP_MUL, r3, gb_bcast(f.g, row, ty(dt, 3, (int64_t[]){3, 7, 13}))), "outer [3,7,13]");
  }
  fx_compare(&f);
  fx_free(&f);
}

/* Reductions over the first, last, middle and all axes, kept and dropped,
 * with argmax, on odd and empty extents (an empty sum is 0, an empty max
 * -inf). */
typedef struct {
  shape s;
  int n_axes;
  int64_t axes[4];
  bool keep;
} reduction;

static void reduction_cases(fx *f, const reduction *cases, int n) {
  const gc_dtype dts[2] = {GC_F64, GC_F32};
  char buf[GC_TYPE_STR_MAX], what[2 * GC_TYPE_STR_MAX];
  for (int k = 0; k < 2; k++)
    for (int c = 0; c < n; c++) {
      gc_type t = ty(dts[k], cases[c].s.rank, cases[c].s.dims);
      int x = fx_input(f, t, -1, 1);
      gc_ilist axes = gb_ilist(cases[c].axes, cases[c].n_axes);
      snprintf(what, sizeof what, "reduce_sum %s axes %d..", shape_str(t, buf), (int)cases[c].axes[0]);
      fx_out(f, gb_reduce(f->g, GC_OP_REDUCE_SUM, x, axes, cases[c].keep), what);
      snprintf(what, sizeof what, "reduce_max %s axes %d..", shape_str(t, buf), (int)cases[c].axes[0]);
      fx_out(f, gb_reduce(f->g, GC_OP_REDUCE_MAX, x, axes, cases[c].keep), what);
      /* a result the reduction reads whole: stored by the reduction's loop
       * and read back by the later results (codegen/lower.c) */
      int e = gb_un(f->g, GC_OP_EXP, x);
      snprintf(what, sizeof what, "exp %s, summed over axes %d.. in the same kernel", shape_str(t, buf),
               (int)cases[c].axes[0]);
      fx_out(f, e, what);
      fx_out(f, gb_reduce(f->g, GC_OP_REDUCE_SUM, e, axes, cases[c].keep), "sum of that exp");
      fx_out(f, gb_bin(f->g, GC_OP_MUL, gb_un(f->g, GC_OP_NEG, x), e), "-x times that exp");
      int64_t ax = cases[c].axes[0];
      if (cases[c].n_axes == 1 && t.dims[ax] > 0) {
        snprintf(what, sizeof what, "argmax %s axis %d", shape_str(t, buf), (int)ax);
        fx_out(f, gb_argmax(f->g, x, (int)ax, cases[c].keep), what);
      }
    }
}

static const reduction odd_reductions[] = {
    {{2, {7, 13}}, 1, {1}, false},          {{2, {7, 13}}, 1, {0}, true},
    {{2, {1, 31}}, 1, {1}, false},          {{2, {13, 1}}, 1, {0}, false},
    {{4, {2, 3, 5, 7}}, 2, {1, 3}, false},  {{4, {2, 3, 5, 7}}, 4, {0, 1, 2, 3}, false},
    {{1, {4099}}, 1, {0}, false},           {{2, {3, 1009}}, 1, {1}, true},
    {{3, {67, 1, 3}}, 2, {0, 2}, true},     {{1, {1}}, 1, {0}, false},
};
/* empty extents: a sum over nothing is 0, a max -inf */
static const reduction empty_reductions[] = {
    {{2, {0, 5}}, 1, {0}, false}, {{2, {5, 0}}, 1, {1}, true}, {{3, {3, 0, 2}}, 1, {1}, false},
    {{3, {3, 0, 2}}, 1, {0}, false},
};

static void test_odd_reductions(void **state) {
  (void)state;
  fx f;
  fx_init(&f, "odd reductions", 2);
  reduction_cases(&f, odd_reductions, sizeof odd_reductions / sizeof *odd_reductions);
  /* integer sums */
  int xi = fx_input(&f, ty(GC_I32, 2, (int64_t[]){7, 13}), -100, 100);
  fx_out(&f, gb_reduce(f.g, GC_OP_REDUCE_SUM, xi, IL(1), false), "reduce_sum i32[7,13]");
  int xl = fx_input(&f, ty(GC_I64, 2, (int64_t[]){3, 1009}), -1e6, 1e6);
  fx_out(&f, gb_reduce(f.g, GC_OP_REDUCE_MAX, xl, IL(0, 1), false), "reduce_max i64[3,1009]");
  fx_compare(&f);
  fx_free(&f);
}

/* a [.., M, K] (stored [.., K, M] when ta) times b [.., K, N] (stored
 * [.., N, K] when tb), with their batch dims. */
static void odd_dot(fx *f, gc_dtype dt, int abr, const int64_t *ab, int bbr, const int64_t *bb, int64_t m,
                    int64_t k, int64_t n, bool ta, bool tb) {
  int64_t ad[GC_MAX_RANK], bd[GC_MAX_RANK];
  for (int i = 0; i < abr; i++) ad[i] = ab[i];
  for (int i = 0; i < bbr; i++) bd[i] = bb[i];
  ad[abr] = ta ? k : m, ad[abr + 1] = ta ? m : k;
  bd[bbr] = tb ? n : k, bd[bbr + 1] = tb ? k : n;
  gc_type at = ty(dt, abr + 2, ad), bt = ty(dt, bbr + 2, bd);
  int a = fx_input(f, at, -1, 1), b = fx_input(f, bt, -1, 1);
  char what[3 * GC_TYPE_STR_MAX], x[GC_TYPE_STR_MAX], y[GC_TYPE_STR_MAX];
  snprintf(what, sizeof what, "dot %s%s x %s%s", shape_str(at, x), ta ? "^T" : "", shape_str(bt, y), tb ? "^T" : "");
  fx_out(f, gb_dot(f->g, a, b, ta, tb), what);
}

static void test_odd_dot(void **state) {
  (void)state;
  fx f;
  fx_init(&f, "odd dot", 3);
  const gc_dtype dts[2] = {GC_F64, GC_F32};
  static const int64_t mkn[][3] = {{7, 13, 5}, {1, 17, 1}, {11, 1, 3}, {1, 1, 1},
                                   {37, 41, 43}, {67, 129, 71}, {3, 257, 2}};
  for (int c = 0; c < 2; c++) {
    gc_dtype dt = dts[c];
    for (size_t i = 0; i < sizeof mkn / sizeof *mkn; i++)
      odd_dot(&f, dt, 0, NULL, 0, NULL, mkn[i][0], mkn[i][1], mkn[i][2], false, false);
    for (int t = 1; t < 4; t++) {   /* the other transposes */
      odd_dot(&f, dt, 0, NULL, 0, NULL, 7, 13, 5, t & 1, t & 2);
      odd_dot(&f, dt, 0, NULL, 0, NULL, 37, 41, 43, t & 1, t & 2);
    }
    /* A transposed (packed whole, backends/llvm/gemm.c) past the blocks:
     * more rows than one MC block, K over two KC blocks, a short last panel */
    odd_dot(&f, dt, 0, NULL, 0, NULL, 397, 263, 23, true, false);
    /* batch broadcasting: [3,1] against [2]; a matrix against a batch; size-1 batches */
    odd_dot(&f, dt, 2, (int64_t[]){3, 1}, 1, (int64_t[]){2}, 7, 13, 5, false, false);
    odd_dot(&f, dt, 0, NULL, 1, (int64_t[]){3}, 7, 13, 5, false, true);
    odd_dot(&f, dt, 1, (int64_t[]){5}, 0, NULL, 1, 13, 7, true, false);
    odd_dot(&f, dt, 2, (int64_t[]){1, 2}, 2, (int64_t[]){3, 1}, 5, 3, 11, true, true);
    /* one row (backends/llvm/gemv.h): each transpose, K past 16 lanes with a
     * tail, N past groups of four rows and past one task's columns, batches */
    for (int t = 0; t < 4; t++) odd_dot(&f, dt, 0, NULL, 0, NULL, 1, 37, 70, t & 1, t & 2);
    odd_dot(&f, dt, 0, NULL, 0, NULL, 1, 300, 517, false, true);
    odd_dot(&f, dt, 0, NULL, 0, NULL, 1, 300, 517, false, false);
    odd_dot(&f, dt, 2, (int64_t[]){2, 1}, 2, (int64_t[]){1, 3}, 1, 19, 9, false, true);
  }
  fx_compare(&f);
  fx_free(&f);
}

static void test_odd_gather_scatter(void **state) {
  (void)state;
  fx f;
  fx_init(&f, "odd gather and scatter_add", 4);
  const gc_dtype dts[3] = {GC_F64, GC_F32, GC_I32};
  for (int c = 0; c < 3; c++) {
    gc_dtype dt = dts[c];
    gc_graph *g = f.g;
    int t = fx_input(&f, ty(dt, 2, (int64_t[]){11, 7}), -50, 50);
    int i1 = fx_index(&f, ty(GC_I64, 1, (int64_t[]){5}), (int64_t[]){10, -11, 0, 3, -1});
    fx_out(&f, gb_gather(g, t, i1, 0), "gather [11,7] rows, negative indices");
    int i2 = fx_index(&f, ty(GC_I32, 2, (int64_t[]){2, 3}), (int64_t[]){6, 0, -7, 2, 2, 5});
    fx_out(&f, gb_gather(g, t, i2, 1), "gather [11,7] axis 1, i32 [2,3] indices");
    int one = fx_input(&f, ty(dt, 2, (int64_t[]){1, 1}), -5, 5);
    int i4 = fx_index(&f, ty(GC_I64, 1, (int64_t[]){4}), (int64_t[]){0, -1, 0, -1});
    fx_out(&f, gb_gather(g, one, i4, 0), "gather from [1,1]");
    int s = fx_input(&f, ty(dt, 2, (int64_t[]){9, 3}), -50, 50);
    int i9 = fx_index(&f, ty(GC_I64, 1, (int64_t[]){9}), (int64_t[]){4, 0, 4, -1, 2, 2, -5, 1, 4});
    fx_out(&f, gb_scatter(g, i9, s, 0, ty(dt, 2, (int64_t[]){5, 3})), "scatter_add repeated rows into [5,3]");
    int s2 = fx_input(&f, ty(dt, 2, (int64_t[]){3, 4}), -50, 50);
    int j4 = fx_index(&f, ty(GC_I32, 1, (int64_t[]){4}), (int64_t[]){6, -1, 0, 3});
    fx_out(&f, gb_scatter(g, j4, s2, 1, ty(dt, 2, (int64_t[]){3, 7})), "scatter_add axis 1 into [3,7]");
    /* a long odd lookup, as an embedding of 1013 tokens */
    int64_t ids[1013];
    for (int i = 0; i < 1013; i++) ids[i] = (i * 7919) % 11 - (i % 3 == 0 ? 11 : 0);
    int il = fx_index(&f, ty(GC_I64, 1, (int64_t[]){1013}), ids);
    int big = gb_gather(g, t, il, 0);
    fx_out(&f, big, "gather 1013 rows");
    fx_out(&f, gb_scatter(g, il, big, 0, ty(dt, 2, (int64_t[]){11, 7})), "scatter_add 1013 rows back");
  }
  fx_compare(&f);
  fx_free(&f);
}

/* Zero-size axes through every kind of op: elementwise chains, reductions
 * over and beside an empty axis, dot with K = 0 (zeros), M = 0 and an empty
 * batch, gather of no rows and of empty rows, scatter_add of nothing. */
static void test_zero_size_axes(void **state) {
  (void)state;
  fx f;
  fx_init(&f, "zero-size axes", 7);
  elementwise_cases(&f, empty, sizeof empty / sizeof *empty);
  reduction_cases(&f, empty_reductions, sizeof empty_reductions / sizeof *empty_reductions);
  const gc_dtype dts[2] = {GC_F64, GC_F32};
  for (int c = 0; c < 2; c++) {
    gc_dtype dt = dts[c];
    odd_dot(&f, dt, 0, NULL, 0, NULL, 5, 0, 3, false, false);
    odd_dot(&f, dt, 0, NULL, 0, NULL, 0, 4, 3, false, true);
    odd_dot(&f, dt, 1, (int64_t[]){0}, 0, NULL, 3, 5, 7, false, false);
    int t = fx_input(&f, ty(dt, 2, (int64_t[]){11, 7}), -1, 1);
    int i0 = fx_index(&f, ty(GC_I64, 1, (int64_t[]){0}), NULL);
    fx_out(&f, gb_gather(f.g, t, i0, 0), "gather no rows");
    int rows = fx_input(&f, ty(dt, 2, (int64_t[]){5, 0}), 0, 1);
    int i3 = fx_index(&f, ty(GC_I64, 1, (int64_t[]){3}), (int64_t[]){4, 0, -5});
    fx_out(&f, gb_gather(f.g, rows, i3, 0), "gather empty rows");
    int s0 = fx_input(&f, ty(dt, 2, (int64_t[]){0, 3}), 0, 1);
    fx_out(&f, gb_scatter(f.g, i0, s0, 0, ty(dt, 2, (int64_t[]){5, 3})), "scatter_add nothing");
  }
  fx_compare(&f);
  fx_free(&f);
}

/* ---- edges of pads, concats and slices -------------------------------------- */

/* RoPE's rotate-half, forward (slices, neg, concat) and backward (slices,
 * neg, pads, add), through a head transpose and a flattening reshape, and
 * pads and concats at odd offsets: lowered, their inner loops compare the
 * column with the pieces' edges and clamp their indices.  The llvm backend
 * cuts those loops at the edges (codegen/split.c; strip-mined first where a
 * reshape flattened heads x lanes) -- the tile IR must show the pieces --
 * and the results must still be the interpreter's. */
static int rope_forward(gc_graph *g, int x, int cs, int sn, int64_t half) {
  const gc_type *t = gb_t(g, x);
  int64_t b = t->dims[0], h = t->dims[1], s = t->dims[2], d = t->dims[3];
  int x1 = gb_slice(g, x, IL(0, 0, 0, 0), IL(b, h, s, half), IL(1, 1, 1, 1));
  int x2 = gb_slice(g, x, IL(0, 0, 0, half), IL(b, h, s, d), IL(1, 1, 1, 1));
  int rot = gb_concat(g, (int[]){gb_un(g, GC_OP_NEG, x2), x1}, 2, 3);
  return gb_bin(g, GC_OP_ADD, gb_bin(g, GC_OP_MUL, x, gb_bcast(g, cs, *t)), gb_bin(g, GC_OP_MUL, rot, gb_bcast(g, sn, *t)));
}

static int rope_backward(gc_graph *g, int gy, int cs, int sn, int64_t half) {
  const gc_type *t = gb_t(g, gy);
  int64_t b = t->dims[0], h = t->dims[1], s = t->dims[2], d = t->dims[3];
  int gr = gb_bin(g, GC_OP_MUL, gy, gb_bcast(g, sn, *t));
  int g1 = gb_slice(g, gr, IL(0, 0, 0, 0), IL(b, h, s, half), IL(1, 1, 1, 1));
  int g2 = gb_slice(g, gr, IL(0, 0, 0, half), IL(b, h, s, d), IL(1, 1, 1, 1));
  int a = gb_pad(g, gb_un(g, GC_OP_NEG, g1), IL(0, 0, 0, d - half), IL(0, 0, 0, 0), 0);
  int c = gb_pad(g, g2, IL(0, 0, 0, 0), IL(0, 0, 0, d - half), 0);
  return gb_bin(g, GC_OP_ADD, gb_bin(g, GC_OP_ADD, gb_bin(g, GC_OP_MUL, gy, gb_bcast(g, cs, *t)), a), c);
}

static void edge_cases(fx *f, gc_dtype dt, int64_t b, int64_t h, int64_t s, int64_t d) {
  int64_t half = d / 2;
  gc_type x4 = ty(dt, 4, (int64_t[]){b, s, h, d}), tab = ty(dt, 2, (int64_t[]){s, d});
  int x = gb_transpose(f->g, fx_input(f, x4, -1, 1), IL(0, 2, 1, 3));   /* [b, h, s, d] */
  int cs = fx_input(f, tab, -1, 1), sn = fx_input(f, tab, -1, 1);
  char what[160];
  snprintf(what, sizeof what, "rope forward %s [%lld,%lld,%lld,%lld]", gc_dtype_name(dt), (long long)b, (long long)h,
           (long long)s, (long long)d);
  fx_out(f, rope_forward(f->g, x, cs, sn, half), what);
  /* backward: back to [b, s, h*d], and the bias gradient over (b, s) */
  int gx = gb_transpose(f->g, rope_backward(f->g, x, cs, sn, half), IL(0, 2, 1, 3));
  int flat = gb_reshape(f->g, gx, ty(dt, 3, (int64_t[]){b, s, h * d}));
  snprintf(what, sizeof what, "rope backward %s, flattened heads", gc_dtype_name(dt));
  fx_out(f, flat, what);
  snprintf(what, sizeof what, "rope backward %s, bias gradient", gc_dtype_name(dt));
  fx_out(f, gb_reduce(f->g, GC_OP_REDUCE_SUM, flat, IL(0, 1), false), what);
  /* pads at odd offsets and a three-way concat, on rows of 11 */
  int r = fx_input(f, ty(dt, 2, (int64_t[]){7, 11}), -1, 1);
  int p = gb_pad(f->g, r, IL(0, 2), IL(0, 3), 0.5);
  int q = gb_slice(f->g, p, IL(0, 1), IL(7, 15), IL(1, 1));
  snprintf(what, sizeof what, "pad [2, 3] then slice [1, 15) %s", gc_dtype_name(dt));
  fx_out(f, gb_bin(f->g, GC_OP_MUL, q, q), what);
  int parts[3] = {gb_slice(f->g, r, IL(0, 0), IL(7, 3), IL(1, 1)), gb_slice(f->g, r, IL(0, 10), IL(7, 11), IL(1, 1)),
                  gb_slice(f->g, r, IL(0, 4), IL(7, 9), IL(1, 1))};
  snprintf(what, sizeof what, "concat of 3 + 1 + 5 columns %s", gc_dtype_name(dt));
  fx_out(f, gb_un(f->g, GC_OP_EXP, gb_concat(f->g, parts, 3, 1)), what);
}

/* f's graph compiled on llvm with options o (passes as the caller set
 * them); the tile IR it prints goes to *ir (the caller frees it). */
static gc_program *compile_llvm_showing_tile(const fx *f, gc_compile_options o, char **ir) {
  size_t len = 0;
  FILE *out = open_memstream(ir, &len);
  assert_non_null(out);
  gc_pass_options po;
  gc_pass_options_init(&po);
  po.print_after = "tile";
  po.out = out;
  o.backend = "llvm";
  o.pass_options = &po;
  gc_program *p = gc_test_compile_with(f->g, &o, &f->params, &f->inputs);
  fclose(out);
  return p;
}

static int occurrences(const char *text, const char *needle) {
  int n = 0;
  for (const char *at = text; (at = strstr(at, needle)); at++) n++;
  return n;
}

static void test_split_edges(void **state) {
  (void)state;
  fx f;
  fx_init(&f, "edges", 11);
  edge_cases(&f, GC_F64, 2, 3, 5, 10);
  edge_cases(&f, GC_F32, 3, 4, 7, 32);
  /* the tile IR shows the pieces: loops with a vector width hint */
  char *text = NULL;
  gc_program *p = compile_llvm_showing_tile(&f, gc_test_compile_options(), &text);
  int pieces = occurrences(text, "{vector=");
  printf("edges: %d loops cut at pad, concat and slice edges\n", pieces);
  assert_true(pieces >= 8);
  free(text);
  gc_program_free(p);
  fx_compare(&f);
  fx_free(&f);
}

/* ---- buffers stored over the ones they read ------------------------------------ */

/* An AdamW-like update written into its params, and sums of scatter_adds
 * whose result the plan places over a dying operand -- once an
 * intermediate (read by a dot), once bound to an output (which lives in the
 * output's slot, not over the operand).  The tile IR names the shared buffers ("%bN over %bM"; the
 * emitter hands both one pointer, so the loops vectorize without a run-time
 * overlap check); three runs give the interpreter's outputs and params. */
static const char shared_text[] =
    "graph @shared {\n"
    "  %w  = param \"w\" : T[37,45]\n"
    "  %m  = param \"m\" : T[37,45]\n"
    "  %x  = input \"x\" : T[37,45]\n"
    "  %v  = param \"v\" : T[45,45]\n"
    "  %i  = input \"i\" : i64[5]\n"
    "  %j  = input \"j\" : i64[5]\n"
    "  %u0 = input \"u0\" : T[5,45]\n"
    "  %u1 = input \"u1\" : T[5,45]\n"
    "  %g  = tanh %x : T[37,45]\n"
    "  %b1 = const 0.9 : T[37,45]\n"
    "  %b2 = const 0.1 : T[37,45]\n"
    "  %m1 = mul %m, %b1 : T[37,45]\n"
    "  %g1 = mul %g, %b2 : T[37,45]\n"
    "  %mn = add %m1, %g1 : T[37,45]\n"
    "  %sq = mul %mn, %mn : T[37,45]\n"
    "  %ep = const 1e-3 : T[37,45]\n"
    "  %d  = add %sq, %ep : T[37,45]\n"
    "  %r  = sqrt %d : T[37,45]\n"
    "  %q  = div %mn, %r : T[37,45]\n"
    "  %wn = sub %w, %q : T[37,45]\n"
    "  update \"w\" = %wn\n"
    "  update \"m\" = %mn\n"
    "  %s0 = scatter_add %i, %u0 : T[37,45]\n"
    "  %s1 = scatter_add %j, %u1 : T[37,45]\n"
    "  %a  = add %s0, %s1 : T[37,45]\n"
    "  %t  = tanh %a : T[37,45]\n"
    "  %y  = dot %t, %v : T[37,45]\n"
    "  %s2 = scatter_add %j, %u0 : T[37,45]\n"
    "  %s3 = scatter_add %i, %u1 : T[37,45]\n"
    "  %o  = add %s2, %s3 : T[37,45]\n"
    "  output \"y\" = %y\n"
    "  output \"o\" = %o\n"
    "}\n";

static void shared_case(gc_dtype dt) {
  char full[4 * sizeof shared_text], *o = full;   /* every " T[" typed as dt */
  for (const char *c = shared_text; *c; c++)
    o += c[0] == 'T' && c[1] == '[' && c > shared_text && c[-1] == ' ' ? sprintf(o, "%s", gc_dtype_name(dt))
                                                                        : (*o = *c, 1);
  *o = 0;
  gc_diag d;
  gc_graph *g = gc_parse(full, strlen(full), &d);
  if (!g) fail_msg("%s", d.msg);
  fx f;
  fx_init(&f, "shared", 5 + dt);
  gc_graph_free(f.g);
  f.g = g;
  gc_type t = ty(dt, 2, (int64_t[]){37, 45}), tu = ty(dt, 2, (int64_t[]){5, 45});
  gc_type tv = ty(dt, 2, (int64_t[]){45, 45});
  const char *names[] = {"w", "m", "v", "x", "u0", "u1"};
  const gc_type *types[] = {&t, &t, &tv, &t, &tu, &tu};
  for (int k = 0; k < 6; k++) {
    gc_tensor *v = gc_tensor_new(types[k]);
    for (int64_t j = 0; j < gc_tensor_numel(v); j++) gc_tensor_store(v, j, gc_test_rng_range(&f.rng, -1, 1));
    gc_tensor_map_put(k < 3 ? &f.params : &f.inputs, names[k], v);
  }
  gc_type ti = ty(GC_I64, 1, (int64_t[]){5});
  const int64_t iv[2][5] = {{3, 36, 3, 0, 17}, {5, 5, 36, 1, 0}};
  for (int k = 0; k < 2; k++) {
    gc_tensor *idx = gc_tensor_new(&ti);
    for (int j = 0; j < 5; j++) gc_tensor_store(idx, j, (double)iv[k][j]);
    gc_tensor_map_put(&f.inputs, k ? "j" : "i", idx);
  }
  /* llvm, with the default passes (the plan places the values), the tile IR captured */
  char *dump = NULL;
  gc_compile_options co = gc_test_compile_options();
  co.passes = NULL;
  gc_program *p = compile_llvm_showing_tile(&f, co, &dump);
  int shared = occurrences(dump, " over %b");
  printf("shared %s: %d buffers stored over ones they read\n", gc_dtype_name(dt), shared);
  assert_int_equal(shared, 3);   /* w, m and tanh's result; not the output "o" */
  free(dump);
  gc_tensor_map want, got;
  gc_tensor_map_init(&want);
  gc_tensor_map_init(&got);
  for (int run = 0; run < 3; run++) {
    gc_tensor_map_clear(&want);
    if (gc_interp_run(g, &f.params, &f.inputs, &want, &d)) fail_msg("%s", d.msg);
    gc_test_rerun(p, NULL);
  }
  if (gc_program_get_outputs(p, &got, &d) || gc_program_get_params(p, &got, &d)) fail_msg("%s", d.msg);
  for (int i = 0; i < f.params.n; i++) gc_tensor_map_put(&want, f.params.names[i], gc_tensor_clone(f.params.tensors[i]));
  for (int i = 0; i < want.n; i++) {
    char what[128];
    snprintf(what, sizeof what, "shared %s: \"%s\" after 3 runs, llvm against interp", gc_dtype_name(dt), want.names[i]);
    gc_test_expect_close(what, gc_tensor_map_get(&got, want.names[i]), want.tensors[i], gc_test_backend_tol(dt), 1e-300);
  }
  gc_tensor_map_clear(&want);
  gc_tensor_map_clear(&got);
  gc_program_free(p);
  fx_free(&f);
}

static void test_shared_buffers(void **state) {
  (void)state;
  shared_case(GC_F64);
  shared_case(GC_F32);
}

/* ---- threads ---------------------------------------------------------------- */

enum { TB = 2, TT = 12 };

/* Deterministic ids in [2, V). */
static gc_tensor *ids(int64_t rows, int64_t cols, int64_t V, uint64_t seed) {
  gc_type t = gc_type_make(GC_I64, 2, (int64_t[]){rows, cols});
  gc_tensor *x = gc_tensor_new(&t);
  for (int64_t i = 0; i < rows * cols; i++) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    ((int64_t *)x->data)[i] = 2 + (int64_t)((seed >> 33) % (uint64_t)(V - 2));
  }
  return x;
}

/* qwen2_tiny's training step (forward, loss, backward, AdamW) with its
 * params and two batches. */
static gc_graph *training_step(gc_tensor_map *params, gc_tensor_map *b0, gc_tensor_map *b1) {
  gc_diag d;
  gc_model_config c;
  gc_init_table *inits;
  gc_optim_config o;
  gc_optim_defaults(&o);
  o.lr = 3e-3;
  o.warmup = 10;
  o.schedule = GC_SCHEDULE_CONSTANT;
  o.weight_decay = 0;
  if (gc_model_config_init(&c, "qwen2_tiny", &d)) fail_msg("%s", d.msg);
  gc_model_shape s = {.batch = TB, .seq = TT};
  gc_graph *g = gc_model_build(&c, &s, &inits, &d);
  if (!g || gc_optim_append(g, "loss", &o, &d)) fail_msg("%s", d.msg);
  int64_t V = c.family->vocab_size(c.config);
  gc_tensor_map *b[2] = {b0, b1};
  for (int i = 0; i < 2; i++) {
    gc_tensor_map_init(b[i]);
    gc_tensor_map_put(b[i], "input_ids", ids(TB, TT, V, 1 + (uint64_t)i));
    gc_tensor_map_put(b[i], "labels", ids(TB, TT, V, 8 + (uint64_t)i));
    if (gc_model_complete_inputs(&c, g, b[i], NULL, &d)) fail_msg("inputs: %s", d.msg);
  }
  gc_tensor_map_init(params);
  if (gc_model_load_params(&c, g, NULL, params, inits, 3, NULL, &d)) fail_msg("%s", d.msg);
  gc_init_table_free(inits);
  gc_model_config_free(&c);
  return g;
}

static void test_threads_bitwise(void **state) {
  (void)state;
  gc_diag d;
  gc_tensor_map params, b0, b1;
  gc_graph *g = training_step(&params, &b0, &b1);
  gc_program *one = llvm_program(g, 1, &params, &b0), *two = llvm_program(g, 2, &params, &b0);
  for (int step = 0; step < 5; step++) {
    const gc_tensor_map *batch = step % 2 ? &b1 : &b0;
    if (gc_program_feed(one, batch, &d) || gc_program_feed(two, batch, &d)) fail_msg("%s", d.msg);
    gc_test_rerun(one, NULL);
    gc_test_rerun(two, NULL);
    char what[64];
    snprintf(what, sizeof what, "loss of step %d, 2 threads against 1", step + 1);
    gc_test_expect_bitwise(what, gc_test_output(two, "loss"), gc_test_output(one, "loss"));
    printf("step %d: loss %.9g with 1 and with 2 threads\n", step + 1, gc_tensor_load(gc_test_output(one, "loss"), 0));
  }
  gc_tensor_map p1, p2;
  gc_tensor_map_init(&p1);
  gc_tensor_map_init(&p2);
  if (gc_program_get_params(one, &p1, &d) || gc_program_get_params(two, &p2, &d)) fail_msg("%s", d.msg);
  assert_true(p1.n > 0 && p1.n == p2.n);
  for (int i = 0; i < p1.n; i++) {
    char what[300];
    snprintf(what, sizeof what, "param %s after 5 steps, 2 threads against 1", p1.names[i]);
    gc_test_expect_bitwise(what, gc_tensor_map_get(&p2, p1.names[i]), p1.tensors[i]);
  }
  /* and the steps did train: the weights moved */
  const gc_tensor *w0 = gc_tensor_map_get(&params, "model.embed_tokens.weight"), *w5 = gc_tensor_map_get(&p1, "model.embed_tokens.weight");
  assert_non_null(w0);
  assert_memory_not_equal(w0->data, w5->data, gc_tensor_bytes(w0));
  printf("%d params (weights and optimizer state) bitwise equal after 5 steps\n", p1.n);
  gc_program_free(one);
  gc_program_free(two);
  gc_tensor_map_clear(&p1);
  gc_tensor_map_clear(&p2);
  gc_tensor_map_clear(&params);
  gc_tensor_map_clear(&b0);
  gc_tensor_map_clear(&b1);
  gc_graph_free(g);
}

/* ---- the kernel cache ------------------------------------------------------- */

/* A small network: dot, tanh, softmax, an embedding lookup, a loss and its
 * gradients (a dozen kernels of every kind). */
static void cache_graph(fx *f) {
  fx_init(f, "cache", 5);
  gc_graph *g = f->g;
  int x = fx_input(f, ty(GC_F32, 2, (int64_t[]){5, 7}), -1, 1);
  int w = fx_input(f, ty(GC_F32, 2, (int64_t[]){7, 11}), -1, 1);
  int e = fx_input(f, ty(GC_F32, 2, (int64_t[]){11, 3}), -1, 1);
  int idx = fx_index(f, ty(GC_I64, 1, (int64_t[]){4}), (int64_t[]){3, 0, 10, 3});
  int h = gb_un(g, GC_OP_TANH, gb_dot(g, x, w, false, false));
  int p = gb_softmax(g, h);
  int emb = gb_gather(g, e, idx, 0);
  int y = gb_dot(g, p, e, false, false);
  fx_out(f, y, "softmax(tanh(x w)) e");
  fx_out(f, gb_sum_all(g, gb_bin(g, GC_OP_MUL, emb, emb)), "sum of squared rows");
  fx_out(f, gb_reduce(g, GC_OP_REDUCE_MAX, p, IL(1), false), "max probability");
}

static int entry_count(const char *dir) {
  DIR *dd = opendir(dir);
  assert_non_null(dd);
  int n = 0;
  struct dirent *de;
  while ((de = readdir(dd)))
    n += strlen(de->d_name) == 34 && strcmp(de->d_name + 32, ".o") == 0;
  closedir(dd);
  return n;
}

/* Calls fn(path, arg) for each entry file of dir. */
static void each_entry(const char *dir, void (*fn)(const char *path, const char *file, void *arg), void *arg) {
  DIR *dd = opendir(dir);
  assert_non_null(dd);
  struct dirent *de;
  while ((de = readdir(dd))) {
    if (!(strlen(de->d_name) == 34 && strcmp(de->d_name + 32, ".o") == 0)) continue;
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    fn(path, de->d_name, arg);
  }
  closedir(dd);
}

typedef struct {
  int n;
  char names[64][40];
  ino_t inode[64];
} inodes;

static void note_inode(const char *path, const char *file, void *arg) {
  inodes *s = arg;
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_true(s->n < 64);
  snprintf(s->names[s->n], sizeof s->names[s->n], "%s", file);
  s->inode[s->n++] = st.st_ino;
}

static ino_t inode_of(const inodes *s, const char *file) {
  for (int i = 0; i < s->n; i++)
    if (strcmp(s->names[i], file) == 0) return s->inode[i];
  return 0;
}

/* Flip a byte in the payload of every other entry and cut the rest short. */
static void corrupt(const char *path, const char *file, void *arg) {
  (void)file;
  int *k = arg;
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_true(st.st_size > GC_OBJCACHE_HEADER + 16);
  if ((*k)++ % 2) {
    assert_int_equal(truncate(path, st.st_size / 2), 0);
    return;
  }
  FILE *fp = fopen(path, "r+b");
  assert_non_null(fp);
  long at = GC_OBJCACHE_HEADER + (long)(st.st_size - GC_OBJCACHE_HEADER) / 2;
  assert_int_equal(fseek(fp, at, SEEK_SET), 0);
  int c = fgetc(fp);
  assert_int_equal(fseek(fp, at, SEEK_SET), 0);
  fputc(c ^ 0x5a, fp);
  fclose(fp);
}

/* The entry loads again: a sound entry under the key its name spells. */
static void expect_sound(const char *path, const char *file, void *arg) {
  const gc_objcache *c = arg;
  char hex[17] = {0};
  memcpy(hex, file, 16);
  gc_objcache_key key = {strtoull(hex, NULL, 16), 0};
  memcpy(hex, file + 16, 16);
  key.lo = strtoull(hex, NULL, 16);
  char again[4400];
  gc_objcache_path(c, key, again, sizeof again);
  assert_string_equal(again, path);
  void *obj;
  size_t len;
  if (!gc_objcache_load(c, key, &obj, &len)) fail_msg("cache entry %s does not load after the rebuild", file);
  free(obj);
}

static void remove_entry(const char *path, const char *file, void *arg) {
  (void)file;
  (void)arg;
  unlink(path);
}

/* Outputs of g on llvm compiled now (from GC_CACHE_DIR as it stands). */
static void run_outputs(fx *f, gc_tensor_map *out) {
  gc_diag d;
  gc_program *p = llvm_program(f->g, 0, &f->params, &f->inputs);
  gc_test_rerun(p, NULL);
  gc_tensor_map_init(out);
  if (gc_program_get_outputs(p, out, &d)) fail_msg("%s", d.msg);
  gc_program_free(p);
}

static void expect_same_outputs(const char *when, const gc_tensor_map *got, const gc_tensor_map *want) {
  assert_int_equal(got->n, want->n);
  for (int i = 0; i < want->n; i++) {
    char what[200];
    snprintf(what, sizeof what, "%s: output \"%s\"", when, want->names[i]);
    gc_test_expect_bitwise(what, gc_tensor_map_get(got, want->names[i]), want->tensors[i]);
  }
}

static void test_cache_hit_is_bitwise_cold(void **state) {
  (void)state;
  char dir[] = "/tmp/gc-test-cache-XXXXXX";
  assert_non_null(mkdtemp(dir));
  const char *prev = getenv("GC_CACHE_DIR");
  char *saved = prev ? strdup(prev) : NULL;
  setenv("GC_CACHE_DIR", dir, 1);
  fx f;
  cache_graph(&f);
  gc_tensor_map cold, warm, rebuilt;
  run_outputs(&f, &cold);                                /* a fresh directory: every kernel compiled */
  int n = entry_count(dir);
  assert_true(n > 0);
  inodes before = {0};
  each_entry(dir, note_inode, &before);
  run_outputs(&f, &warm);                                /* every kernel from the cache */
  assert_int_equal(entry_count(dir), n);
  inodes after = {0};
  each_entry(dir, note_inode, &after);
  for (int i = 0; i < after.n; i++)                      /* a miss would have stored (a new file) */
    if (inode_of(&before, after.names[i]) != after.inode[i]) fail_msg("entry %s was rewritten: a miss", after.names[i]);
  expect_same_outputs("compiled from the cache", &warm, &cold);
  int k = 0;
  each_entry(dir, corrupt, &k);
  run_outputs(&f, &rebuilt);                             /* every entry refused, rebuilt */
  expect_same_outputs("compiled over corrupt entries", &rebuilt, &cold);
  assert_int_equal(entry_count(dir), n);
  gc_host h;
  gc_diag d;
  if (gc_host_detect(&h, &d)) fail_msg("%s", d.msg);
  gc_objcache c;
  gc_objcache_open_dir(&c, &h, dir, false);
  assert_true(c.enabled);
  each_entry(dir, expect_sound, &c);
  printf("%d kernels: cold, cached and rebuilt over corrupt entries give bitwise the same outputs\n", n);
  gc_tensor_map_clear(&cold);
  gc_tensor_map_clear(&warm);
  gc_tensor_map_clear(&rebuilt);
  fx_free(&f);
  each_entry(dir, remove_entry, NULL);
  rmdir(dir);
  if (saved) setenv("GC_CACHE_DIR", saved, 1), free(saved);
  else unsetenv("GC_CACHE_DIR");
}

/* ---- run-time errors -------------------------------------------------------- */

/* Notes in `problems` (every one is reported, at the end) when `part` is
 * not in the message. */
static void expect_in(char *problems, size_t size, const char *msg, const char *part) {
  size_t n = strlen(problems);
  if (!strstr(msg, part) && n < size)
    snprintf(problems + n, size - n, "\n  \"%s\" is not in the message \"%s\"", part, msg);
}

/* An embedding lookup of 5000 ids inside a fused kernel (gather, scale, tanh,
 * sum: its loop split across threads) and a scatter_add: a bad id anywhere
 * (here near the end, in another thread's chunk) is an error naming the
 * node and the index; fixed, the program runs and agrees with interp. */
static void test_index_errors(void **state) {
  (void)state;
  enum { N = 5000 };
  gc_diag d;
  fx f;
  fx_init(&f, "index errors", 6);
  gc_graph *g = f.g;
  int table = fx_input(&f, ty(GC_F32, 2, (int64_t[]){13, 8}), -1, 1);
  int64_t *good = malloc(sizeof *good * N);
  for (int i = 0; i < N; i++) good[i] = i % 13 - (i % 2 ? 13 : 0);
  int idx = fx_index(&f, ty(GC_I64, 1, (int64_t[]){N}), good);
  int emb = gb_gather(g, table, idx, 0);
  gc_graph_set_label(g, emb, "model.embed_tokens");
  int y = gb_un(g, GC_OP_TANH, gb_ks(g, GC_OP_MUL, emb, 0.5));
  fx_out(&f, gb_reduce(g, GC_OP_REDUCE_SUM, y, IL(1), false), "embedded");
  int src = fx_input(&f, ty(GC_F64, 1, (int64_t[]){6}), -1, 1);
  int sidx = fx_index(&f, ty(GC_I32, 1, (int64_t[]){6}), (int64_t[]){0, 1, 2, 3, 4, 0});
  int sc = gb_scatter(g, sidx, src, 0, ty(GC_F64, 1, (int64_t[]){5}));
  gc_graph_set_label(g, sc, "histogram");
  fx_out(&f, sc, "scattered");
  gc_program *p = llvm_program(g, 2, &f.params, &f.inputs);
  gc_tensor *ix = gc_program_input(p, "x1");
  int64_t *iv = ix->data;
  static const struct { int64_t at, bad; const char *text; } cases[] = {
      {N - 3, 13, "index 13 "}, {7, 1000000000000, "index 1000000000000 "}, {4000, -14, "index -14 "}};
  char problems[4000] = "";
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    iv[cases[c].at] = cases[c].bad;
    assert_int_equal(gc_program_run(p, &d), -1);
    expect_in(problems, sizeof problems, d.msg, "gather %");
    expect_in(problems, sizeof problems, d.msg, "model.embed_tokens");
    expect_in(problems, sizeof problems, d.msg, cases[c].text);
    expect_in(problems, sizeof problems, d.msg, "size 13");
    iv[cases[c].at] = good[cases[c].at];
  }
  int32_t *sv = gc_program_input(p, "x3")->data;
  sv[5] = 5;
  assert_int_equal(gc_program_run(p, &d), -1);
  expect_in(problems, sizeof problems, d.msg, "scatter_add %");
  expect_in(problems, sizeof problems, d.msg, "histogram");
  expect_in(problems, sizeof problems, d.msg, "index 5 ");
  sv[5] = 0;
  gc_test_rerun(p, NULL);   /* fixed: runs again */
  gc_tensor_map got, want;
  gc_tensor_map_init(&got);
  gc_tensor_map_init(&want);
  if (gc_program_get_outputs(p, &got, &d)) fail_msg("%s", d.msg);
  if (gc_interp_run(g, &f.params, &f.inputs, &want, &d)) fail_msg("%s", d.msg);
  for (int i = 0; i < want.n; i++)
    gc_test_expect_close(want.names[i], gc_tensor_map_get(&got, want.names[i]), want.tensors[i],
                         gc_test_backend_tol(want.tensors[i]->type.dtype), 1e-300);
  gc_tensor_map_clear(&got);
  gc_tensor_map_clear(&want);
  gc_program_free(p);
  free(good);
  fx_free(&f);
  if (*problems) fail_msg("the errors do not say what they should:%s", problems);
}

/* A label is the user's text, printed as it is: one with printf directives
 * in it ("%s", "%d") comes back verbatim in the error, and nothing reads
 * arguments that are not there.  (Last: a failure here may crash.) */
static void test_index_error_label_verbatim(void **state) {
  (void)state;
  gc_diag d;
  fx f;
  fx_init(&f, "label verbatim", 8);
  int table = fx_input(&f, ty(GC_F32, 2, (int64_t[]){3, 2}), -1, 1);
  int idx = fx_index(&f, ty(GC_I64, 1, (int64_t[]){3}), (int64_t[]){0, 7, 1});
  int y = gb_gather(f.g, table, idx, 0);
  const char *label = "layer.%s.%d.%s%s%s%s.100%";
  gc_graph_set_label(f.g, y, label);
  fx_out(&f, y, "y");
  gc_program *p = llvm_program(f.g, 1, &f.params, &f.inputs);
  assert_int_equal(gc_program_run(p, &d), -1);
  char problems[2000] = "";
  expect_in(problems, sizeof problems, d.msg, label);
  expect_in(problems, sizeof problems, d.msg, "index 7 ");
  gc_program_free(p);
  fx_free(&f);
  if (*problems) fail_msg("%s", problems);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_odd_elementwise),
      cmocka_unit_test(test_odd_reductions),
      cmocka_unit_test(test_odd_dot),
      cmocka_unit_test(test_odd_gather_scatter),
      cmocka_unit_test(test_zero_size_axes),
      cmocka_unit_test(test_split_edges),
      cmocka_unit_test(test_shared_buffers),
      cmocka_unit_test(test_threads_bitwise),
      cmocka_unit_test(test_cache_hit_is_bitwise_cold),
      cmocka_unit_test(test_index_errors),
      cmocka_unit_test(test_index_error_label_verbatim),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
