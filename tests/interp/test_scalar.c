/* ir/scalar.h's gc_scalar_eval, what constant folding computes, is bitwise
 * what the interpreter computes: for every elementwise op and every dtype
 * its rule takes, on values with edges (signed zeros, NaN, infinities, the
 * int32 range, halves, a value f32 rounds), each pair of operands is run
 * as consts through gc_interp_run and compared with gc_scalar_eval. */
#include "tests/testutil.h"
#include "backends/interp/interp.h"
#include "ir/scalar.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const double values[] = {0.0, -0.0, 1, -1, 2.5, -7.5, 3, 0.1, 1e10, -1e10, 2147483647.0, -2147483648.0,
                                NAN, INFINITY, -INFINITY};
enum { N_VALUES = sizeof values / sizeof *values };
static const gc_dtype dtypes[] = {GC_F32, GC_F64, GC_I32, GC_I64, GC_BOOL};

static bool same(double a, double b) { return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0; }

/* One graph: op on every pair (triple for where) of values held as consts
 * of dtypes dt (the first operand bool for where) and out dtype `out` (cast);
 * every result an output.  Returns the number of results compared, 0 when
 * the op's rule refuses these dtypes. */
static int check(gc_op op, gc_dtype dt, gc_dtype out) {
  int arity = gc_op_info_of(op)->arity;
  gc_graph *g = gc_graph_new("scalar");
  gc_type t0 = gc_type_make(op == GC_OP_WHERE ? GC_BOOL : dt, 0, NULL), t = gc_type_make(dt, 0, NULL);
  gc_type to = gc_type_make(out, 0, NULL);
  gc_dtype in_dt[3] = {t0.dtype, dt, dt};
  double in[N_VALUES * N_VALUES][3];
  int n = 0;
  for (int i = 0; i < N_VALUES; i++)
    for (int j = 0; j < (arity > 1 ? N_VALUES : 1); j++) {
      int ids[3];
      double v[3] = {values[i], values[j], values[(i + j) % N_VALUES]};
      for (int k = 0; k < arity; k++) {
        gc_attrs a;
        gc_attrs_defaults(GC_OP_CONST, &a);
        a.value.value = v[k];
        ids[k] = gc_graph_add(g, GC_OP_CONST, NULL, 0, &a, k ? &t : &t0, NULL);
      }
      int r = gc_graph_add(g, op, ids, arity, NULL, op == GC_OP_CAST ? &to : NULL, NULL);
      if (r < 0) {
        gc_graph_free(g);
        return 0;
      }
      char name[32];
      snprintf(name, sizeof name, "r%d", n);
      gc_graph_add_output(g, name, r, NULL);
      memcpy(in[n++], v, sizeof v);
    }
  gc_tensor_map params, inputs, outputs;
  gc_tensor_map_init(&params), gc_tensor_map_init(&inputs), gc_tensor_map_init(&outputs);
  gc_diag d;
  if (gc_interp_run(g, &params, &inputs, &outputs, &d)) fail_msg("%s %s: %s", gc_op_name(op), gc_dtype_name(dt), d.msg);
  for (int k = 0; k < n; k++) {
    char name[32];
    snprintf(name, sizeof name, "r%d", k);
    const gc_tensor *x = gc_tensor_map_get(&outputs, name);
    double want = gc_tensor_load(x, 0), got;
    if (gc_scalar_eval(op, x->type.dtype, in_dt, in[k], arity, &got))
      fail_msg("%s on %s: gc_scalar_eval refuses what the interpreter runs", gc_op_name(op), gc_dtype_name(dt));
    if (!same(got, want))
      fail_msg("%s(%.17g, %.17g, %.17g) in %s -> %s: folded %.17g, the interpreter %.17g", gc_op_name(op), in[k][0],
               in[k][1], in[k][2], gc_dtype_name(dt), gc_dtype_name(x->type.dtype), got, want);
  }
  gc_tensor_map_clear(&outputs);
  gc_graph_free(g);
  return n;
}

static void test_folding_is_the_interpreter(void **state) {
  (void)state;
  int compared = 0, ops = 0;
  for (int op = 0; op < GC_OP_COUNT; op++) {
    if (gc_op_kind((gc_op)op) != GC_KIND_ELEMENTWISE) continue;
    int before = compared;
    for (int i = 0; i < 5; i++)
      for (int o = 0; o < (op == GC_OP_CAST ? 5 : 1); o++)
        compared += check((gc_op)op, dtypes[i], op == GC_OP_CAST ? dtypes[o] : dtypes[i]);
    if (compared == before) fail_msg("%s: no dtype checked", gc_op_name((gc_op)op));
    ops++;
  }
  print_message("%d results of %d elementwise ops folded as the interpreter computes them\n", compared, ops);
  assert_true(ops >= 25);
}

/* An op that is not elementwise, or a dtype no rule takes, is refused. */
static void test_refusals(void **state) {
  (void)state;
  double r, in[2] = {1, 2};
  gc_dtype f[2] = {GC_F32, GC_F32}, b[2] = {GC_BOOL, GC_BOOL};
  assert_int_equal(gc_scalar_eval(GC_OP_DOT, GC_F32, f, in, 2, &r), -1);
  assert_int_equal(gc_scalar_eval(GC_OP_EXP, GC_BOOL, b, in, 1, &r), -1);
  assert_int_equal(gc_scalar_eval(GC_OP_ADD, GC_F32, f, in, 2, &r), 0);
  assert_true(r == 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_folding_is_the_interpreter),
      cmocka_unit_test(test_refusals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
