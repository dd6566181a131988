/* Custom calls (call @name): a buffer call, libm's erf and pow through
 * libffi, a user's function of a float and an int argument, and a plugin's
 * call, in one training step whose gradients come from registered VJPs and
 * pass the f64 gradient check; each call's value equal, bit for bit, to the
 * interpreter's.  Then the errors: an unknown name, a wrong signature, a
 * missing VJP, a callee's failure.
 * gc-test: every backend */
#include "tests/autodiff/check.h"
#include "backends/runtime/call.h"
#include "passes/pass.h"

#include <math.h>

/* ---- the user's functions (found by dlsym: the test exports its symbols) ---- */

/* y[i,j] = alpha * x[i,j] * s[i]: a buffer call, any float dtype. */
int test_scale_rows(gc_call_args *a) {
  if (a->n_in != 2 || a->in[0].rank != 2 || a->in[1].rank != 1 || a->in[1].dims[0] != a->in[0].dims[0])
    return gc_call_fail(a, "expects x [R,C] and s [R]");
  double alpha = gc_call_attr(a, "alpha", 1);
  int64_t cols = a->in[0].dims[1];
  for (int64_t k = 0; k < a->out->numel; k++) {
    if (a->out->dtype == GC_F64)
      ((double *)a->out->data)[k] = alpha * ((const double *)a->in[0].data)[k] * ((const double *)a->in[1].data)[k / cols];
    else
      ((float *)a->out->data)[k] =
          (float)alpha * ((const float *)a->in[0].data)[k] * ((const float *)a->in[1].data)[k / cols];
  }
  return 0;
}

/* act(x) = k x / (1 + alpha x^2) and its derivative: a user's function of a
 * float and an int argument, given by the call's attributes. */
double test_act(double x, double alpha, int32_t k) { return k * x / (1 + alpha * x * x); }
double test_act_grad(double x, double alpha, int32_t k) {
  double q = 1 + alpha * x * x;
  return k * (1 - alpha * x * x) / (q * q);
}

int test_always_fails(gc_call_args *a) { return gc_call_fail(a, "the planted failure, %d", 42); }

/* ---- their VJPs, graph builders ---- */

static int add(gc_graph *g, gc_op op, const int *in, int n, const gc_attrs *a, const gc_type *t, gc_diag *d) {
  return gc_graph_add(g, op, in, n, a, t, d);
}
static int bin(gc_graph *g, gc_op op, int x, int y, gc_diag *d) { return add(g, op, (int[]){x, y}, 2, NULL, NULL, d); }
static int konst(gc_graph *g, double v, int like, gc_diag *d) {
  gc_attrs a = {.value = {.value = v}};
  return add(g, GC_OP_CONST, NULL, 0, &a, &g->nodes[like]->type, d);
}

/* scale_rows: dx = scale_rows(dy, s) (itself a call), ds = alpha sum_j x dy. */
static int scale_rows_vjp(gc_graph *g, int node, int dy, int *dx, void *user, gc_diag *d) {
  (void)user;
  const gc_node *n = g->nodes[node];
  int x = n->in[0], s = n->in[1];
  double alpha = 1;
  for (int i = 0; i < n->attrs.call.extra.n; i++)
    if (strcmp(n->attrs.call.extra.key[i], "alpha") == 0) alpha = n->attrs.call.extra.value[i];
  gc_attrs a = n->attrs;
  dx[0] = add(g, GC_OP_CALL, (int[]){dy, s}, 2, &a, &g->nodes[x]->type, d);
  int xdy = bin(g, GC_OP_MUL, x, dy, d);
  gc_attrs r = {.reduce = {.axes = {1, {1}}}};
  int sum = xdy < 0 ? -1 : add(g, GC_OP_REDUCE_SUM, &xdy, 1, &r, NULL, d);
  dx[1] = sum < 0 ? -1 : bin(g, GC_OP_MUL, sum, konst(g, alpha, sum, d), d);
  return dx[0] < 0 || dx[1] < 0 ? -1 : 0;
}

/* erf: dy 2/sqrt(pi) exp(-x^2). */
static int erf_vjp(gc_graph *g, int node, int dy, int *dx, void *user, gc_diag *d) {
  (void)user;
  int x = g->nodes[node]->in[0];
  int x2 = bin(g, GC_OP_MUL, x, x, d);
  int e = add(g, GC_OP_EXP, (int[]){bin(g, GC_OP_SUB, konst(g, 0, x, d), x2, d)}, 1, NULL, NULL, d);
  dx[0] = bin(g, GC_OP_MUL, dy, bin(g, GC_OP_MUL, e, konst(g, 2 / sqrt(M_PI), x, d), d), d);
  return dx[0] < 0 ? -1 : 0;
}

/* pow(b, p): dy p b^(p-1), dy b^p log b (in ops). */
static int pow_vjp(gc_graph *g, int node, int dy, int *dx, void *user, gc_diag *d) {
  (void)user;
  int b = g->nodes[node]->in[0], p = g->nodes[node]->in[1];
  int pm1 = bin(g, GC_OP_SUB, p, konst(g, 1, p, d), d);
  dx[0] = bin(g, GC_OP_MUL, dy, bin(g, GC_OP_MUL, p, bin(g, GC_OP_POW, b, pm1, d), d), d);
  int lb = add(g, GC_OP_LOG, &b, 1, NULL, NULL, d);
  dx[1] = bin(g, GC_OP_MUL, dy, bin(g, GC_OP_MUL, node, lb, d), d);
  return dx[0] < 0 || dx[1] < 0 ? -1 : 0;
}

/* act: dy act'(x), act' an elementwise call of the same attributes. */
static int act_vjp(gc_graph *g, int node, int dy, int *dx, void *user, gc_diag *d) {
  (void)user;
  gc_attrs a = g->nodes[node]->attrs;
  a.call.callee = "test_act_grad";
  int x = g->nodes[node]->in[0];
  int grad = add(g, GC_OP_CALL, &x, 1, &a, &g->nodes[x]->type, d);
  dx[0] = grad < 0 ? -1 : bin(g, GC_OP_MUL, dy, grad, d);
  return dx[0] < 0 ? -1 : 0;
}

#define PLUGIN GC_BIN_DIR "/../test-plugins/gc_test_plugin.so"

static int setup(void **state) {
  (void)state;
  gc_diag d = {0};
  assert_int_equal(gc_register_call("test_scale_rows", (void *)test_scale_rows, scale_rows_vjp, NULL), 0);
  assert_int_equal(gc_register_call("erf", (void *)erf, erf_vjp, NULL), 0);
  assert_int_equal(gc_register_call("pow", (void *)pow, pow_vjp, NULL), 0);
  assert_int_equal(gc_register_call("test_act", (void *)test_act, act_vjp, NULL), 0);
  if (gc_call_load_plugin(PLUGIN, &d)) fail_msg("%s", d.msg);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  gc_call_registry_clear();
  return 0;
}

/* The step's forward: w [3,4] and s [3] params, x [3,4] an input in
 * [0.5, 1.5]; every call's value is an output. */
static const char step_text[] =
    "graph @calls {\n"
    "  %w = param \"w\" : f64[3,4]\n"
    "  %s = param \"s\" : f64[3]\n"
    "  %x = input \"x\" : f64[3,4]\n"
    "  %a = call @test_scale_rows(%w, %s) {alpha=0.75} : f64[3,4]\n"
    "  %b = call @erf(%a) {elementwise} : f64[3,4]\n"
    "  %c = call @test_act(%b) {elementwise, signature=\"f64(f64,f64,i32)\", alpha=0.5, k=3} : f64[3,4]\n"
    "  %one = const 1 : f64[3,4]\n"
    "  %c2 = mul %c, %c : f64[3,4]\n"
    "  %base = add %c2, %one : f64[3,4]\n"
    "  %e = call @pow(%base, %x) {elementwise} : f64[3,4]\n"
    "  %f = call @plugin_softplus(%e) {elementwise} : f64[3,4]\n";
static const char step_outputs[] =
    "  output \"a\" = %a\n"
    "  output \"b\" = %b\n"
    "  output \"c\" = %c\n"
    "  output \"e\" = %e\n"
    "  output \"f\" = %f\n";

static gc_graph *parse(const char *text) {
  gc_diag d = {0};
  gc_graph *g = gc_parse(text, strlen(text), &d);
  if (!g) fail_msg("%d:%d: %s", d.line, d.col, d.msg);
  return g;
}

/* The step's forward, with its outputs or without. */
static gc_graph *parse_step(bool outputs) {
  char text[4096];
  snprintf(text, sizeof text, "%s%s}\n", step_text, outputs ? step_outputs : "");
  return parse(text);
}


static void fill(gc_tensor_map *m, const char *name, gc_type t, gc_test_rng *r, double lo, double hi) {
  gc_tensor_map_put(m, name, gc_rand_tensor(r, t, lo, hi, 0));
}

/* The loss sum(f * r) of the step's graph, differentiated through every
 * call's VJP, passes the f64 gradient check on the backend under test. */
static void test_gradients_through_calls(void **state) {
  (void)state;
  chk c;
  chk_begin(&c, "calls", 19);
  gc_graph_free(c.g);
  c.g = parse_step(false);
  fill(&c.params, "w", TY(F64, 3, 4), &c.rng, -1, 1);
  fill(&c.params, "s", TY(F64, 3), &c.rng, 0.5, 1.5);
  fill(&c.inputs, "x", TY(F64, 3, 4), &c.rng, 0.5, 1.5);
  int f = c.g->n_nodes - 1;
  chk_finish(&c, f, "calls");
}

/* One training step (forward, backward through the VJPs, an SGD update):
 * every call's value equals the interpreter's bit for bit, the gradients
 * and updated params agree to 1e-12. */
static void test_step_equals_interpreter(void **state) {
  (void)state;
  gc_graph *g = parse_step(true);
  gc_diag d = {0};
  int f = gc_graph_find_output(g, "f");
  gc_type t = g->nodes[f]->type;
  int r = gc_graph_add(g, GC_OP_INPUT, NULL, 0, &(gc_attrs){.name = {.name = "r"}}, &t, &d);
  int fr = gc_graph_add(g, GC_OP_MUL, (int[]){f, r}, 2, NULL, NULL, &d);
  gc_attrs all = {.reduce = {.axes = {2, {0, 1}}}};
  int loss = gc_graph_add(g, GC_OP_REDUCE_SUM, &fr, 1, &all, NULL, &d);
  assert_true(loss >= 0);
  gc_graph_add_output(g, "loss", loss, &d);
  if (gc_grad_outputs(g, "loss", &d) < 0) fail_msg("grad: %s", d.msg);
  const char *params[] = {"w", "s"};
  for (int i = 0; i < 2; i++) {
    char name[16];
    snprintf(name, sizeof name, "grad.%s", params[i]);
    int gr = gc_graph_find_output(g, name), p = gc_graph_find_param(g, params[i]);
    assert_true(gr >= 0 && p >= 0);
    int lr = gc_graph_add(g, GC_OP_CONST, NULL, 0, &(gc_attrs){.value = {.value = 0.125}}, &g->nodes[p]->type, &d);
    int step = gc_graph_add(g, GC_OP_MUL, (int[]){gr, lr}, 2, NULL, NULL, &d);
    int upd = gc_graph_add(g, GC_OP_SUB, (int[]){p, step}, 2, NULL, NULL, &d);
    assert_int_equal(gc_graph_add_update(g, params[i], upd, &d), 0);
  }
  gc_test_rng rng = {7};
  gc_tensor_map p1, p2, in, o1, o2;
  gc_tensor_map_init(&p1), gc_tensor_map_init(&p2), gc_tensor_map_init(&in);
  gc_tensor_map_init(&o1), gc_tensor_map_init(&o2);
  fill(&p1, "w", TY(F64, 3, 4), &rng, -1, 1);
  fill(&p1, "s", TY(F64, 3), &rng, 0.5, 1.5);
  fill(&in, "x", TY(F64, 3, 4), &rng, 0.5, 1.5);
  fill(&in, "r", TY(F64, 3, 4), &rng, 0.5, 1.5);
  for (int i = 0; i < 2; i++) gc_tensor_map_put(&p2, params[i], gc_tensor_clone(gc_tensor_map_get(&p1, params[i])));
  if (gc_interp_run(g, &p1, &in, &o1, &d)) fail_msg("interp: %s", d.msg);
  if (gc_test_run(g, &p2, &in, &o2, &d)) fail_msg("%s: %s", gc_test_backend(), d.msg);
  const char *calls[] = {"a", "b", "c", "e", "f"};
  for (int i = 0; i < 5; i++)
    gc_test_expect_bitwise(calls[i], gc_tensor_map_get(&o2, calls[i]), gc_tensor_map_get(&o1, calls[i]));
  gc_test_expect_close("grad.w", gc_tensor_map_get(&o2, "grad.w"), gc_tensor_map_get(&o1, "grad.w"), 1e-12, 1e-12);
  gc_test_expect_close("grad.s", gc_tensor_map_get(&o2, "grad.s"), gc_tensor_map_get(&o1, "grad.s"), 1e-12, 1e-12);
  for (int i = 0; i < 2; i++)
    gc_test_expect_close(params[i], gc_tensor_map_get(&p2, params[i]), gc_tensor_map_get(&p1, params[i]), 1e-12, 1e-12);
  /* the step moved the params: the gradients are not zero */
  assert_true(fabs(gc_tensor_load(gc_tensor_map_get(&o1, "grad.w"), 0)) > 1e-6);
  gc_tensor_map_clear(&p1), gc_tensor_map_clear(&p2), gc_tensor_map_clear(&in);
  gc_tensor_map_clear(&o1), gc_tensor_map_clear(&o2);
  gc_graph_free(g);
}

/* f32: libm's erff (a known signature, called directly) and powf (through
 * libffi), and a buffer call, bit for bit the interpreter's and C's. */
static void test_f32_libm_calls(void **state) {
  (void)state;
  gc_graph *g = parse("graph @f32 {\n"
                      "  %x = input \"x\" : f32[64]\n"
                      "  %p = input \"p\" : f32[64]\n"
                      "  %s = input \"s\" : f32[8]\n"
                      "  %e = call @erff(%x) {elementwise} : f32[64]\n"
                      "  %q = call @powf(%p, %x) {elementwise} : f32[64]\n"
                      "  %m = reshape %q : f32[8,8]\n"
                      "  %r = call @test_scale_rows(%m, %s) {alpha=2} : f32[8,8]\n"
                      "  %i = call @test_act(%x) {elementwise, signature=\"f64(f64,f64,i32)\", alpha=0.25, k=-2} : f32[64]\n"
                      "  output \"e\" = %e\n  output \"q\" = %q\n  output \"r\" = %r\n  output \"i\" = %i\n}\n");
  gc_test_rng rng = {3};
  gc_tensor_map p, in, o1, o2;
  gc_tensor_map_init(&p), gc_tensor_map_init(&in), gc_tensor_map_init(&o1), gc_tensor_map_init(&o2);
  fill(&in, "x", TY(F32, 64), &rng, -2, 2);
  fill(&in, "p", TY(F32, 64), &rng, 0.1, 3);
  fill(&in, "s", TY(F32, 8), &rng, -1, 1);
  gc_diag d = {0};
  if (gc_interp_run(g, &p, &in, &o1, &d)) fail_msg("interp: %s", d.msg);
  if (gc_test_run(g, &p, &in, &o2, &d)) fail_msg("%s: %s", gc_test_backend(), d.msg);
  const char *names[] = {"e", "q", "r", "i"};
  for (int i = 0; i < 4; i++) gc_test_expect_bitwise(names[i], gc_tensor_map_get(&o2, names[i]), gc_tensor_map_get(&o1, names[i]));
  const float *x = gc_tensor_map_get(&in, "x")->data, *pw = gc_tensor_map_get(&in, "p")->data;
  const float *e = gc_tensor_map_get(&o1, "e")->data, *q = gc_tensor_map_get(&o1, "q")->data;
  const float *act = gc_tensor_map_get(&o1, "i")->data;
  for (int k = 0; k < 64; k++) {
    assert_true(e[k] == erff(x[k]));
    assert_true(q[k] == powf(pw[k], x[k]));
    assert_true(act[k] == (float)test_act(x[k], 0.25, -2));
  }
  gc_tensor_map_clear(&p), gc_tensor_map_clear(&in), gc_tensor_map_clear(&o1), gc_tensor_map_clear(&o2);
  gc_graph_free(g);
}

/* Operands the llvm backend computes where they are read (a const, an iota,
 * a broadcast constant that simplify folds into one) reach the callee as
 * buffers all the same. */
static void test_generated_operands(void **state) {
  (void)state;
  gc_graph *g = parse("graph @gen {\n"
                      "  %x = input \"x\" : f32[2,4]\n"
                      "  %two = const 2 : f32[]\n"
                      "  %c = broadcast %two : f32[2,4]\n"
                      "  %i = iota {axis=1} : f32[2,4]\n"
                      "  %r = const 3 : f32[2]\n"
                      "  %p = call @powf(%x, %c) {elementwise} : f32[2,4]\n"
                      "  %s = call @test_scale_rows(%i, %r) {alpha=0.5} : f32[2,4]\n"
                      "  output \"p\" = %p\n  output \"s\" = %s\n}\n");
  gc_test_rng rng = {9};
  gc_tensor_map p, in, o;
  gc_tensor_map_init(&p), gc_tensor_map_init(&in), gc_tensor_map_init(&o);
  fill(&in, "x", TY(F32, 2, 4), &rng, -2, 2);
  gc_diag d = {0};
  if (gc_test_run(g, &p, &in, &o, &d)) fail_msg("%s: %s", gc_test_backend(), d.msg);
  const float *x = gc_tensor_map_get(&in, "x")->data, *pw = gc_tensor_map_get(&o, "p")->data;
  const float *sc = gc_tensor_map_get(&o, "s")->data;
  for (int k = 0; k < 8; k++) {
    assert_true(pw[k] == powf(x[k], 2));
    assert_true(sc[k] == 0.5f * (float)(k % 4) * 3);
  }
  gc_tensor_map_clear(&p), gc_tensor_map_clear(&in), gc_tensor_map_clear(&o);
  gc_graph_free(g);
}

/* ---- errors ---- */

static void expect_compile_error(const char *text, const char *want, int line) {
  gc_graph *g = parse(text);
  gc_compile_options o = gc_test_compile_options();
  gc_diag d = {0};
  gc_program *p = gc_compile(g, &o, &d);
  if (p) fail_msg("compiled, expected: %s", want);
  if (!strstr(d.msg, want)) fail_msg("message \"%s\" lacks \"%s\"", d.msg, want);
  assert_null(strchr(d.msg, '\n'));
  assert_int_equal(d.line, line);
  gc_graph_free(g);
}

static void test_unknown_name(void **state) {
  (void)state;
  expect_compile_error("graph @g {\n  %x = input \"x\" : f32[4]\n  %y = call @no_such_fn(%x) : f32[4]\n"
                       "  output \"y\" = %y\n}\n",
                       "call @no_such_fn: no function of that name", 3);
}

static void test_wrong_signature(void **state) {
  (void)state;
  expect_compile_error("graph @g {\n  %x = input \"x\" : f32[4]\n"
                       "  %y = call @powf(%x) {elementwise, signature=\"f32(f32,f32)\"} : f32[4]\n"
                       "  output \"y\" = %y\n}\n",
                       "signature f32(f32,f32) takes 2 arguments, but the call passes 1 operand and 0 attributes", 3);
  expect_compile_error("graph @g {\n  %x = input \"x\" : f32[4]\n"
                       "  %y = call @powf(%x) {elementwise, signature=\"f32(f32,float)\"} : f32[4]\n"
                       "  output \"y\" = %y\n}\n",
                       "cannot read signature \"f32(f32,float)\"", 3);
}

static void test_missing_vjp(void **state) {
  (void)state;
  gc_graph *g = parse("graph @g {\n  %w = param \"w\" : f64[4]\n  %y = call @erff(%w) {elementwise} : f64[4]\n"
                      "  %l = reduce_sum %y {axes=[0]} : f64[]\n  output \"loss\" = %l\n}\n");
  gc_diag d = {0};
  assert_true(gc_grad_outputs(g, "loss", &d) < 0);
  assert_non_null(strstr(d.msg, "call @erff %1 has no VJP"));
  assert_null(strchr(d.msg, '\n'));
  gc_graph_free(g);
}

/* A callee's non-zero return stops the run with its message. */
static void test_callee_failure(void **state) {
  (void)state;
  gc_graph *g = parse("graph @g {\n  %x = input \"x\" : f32[4]\n  %y = call @test_always_fails(%x) : f32[4]\n"
                      "  output \"y\" = %y\n}\n");
  gc_tensor_map p, in, o;
  gc_tensor_map_init(&p), gc_tensor_map_init(&in), gc_tensor_map_init(&o);
  gc_test_rng rng = {5};
  fill(&in, "x", TY(F32, 4), &rng, 0, 1);
  gc_diag d = {0};
  assert_int_equal(gc_test_run(g, &p, &in, &o, &d), -1);
  assert_non_null(strstr(d.msg, "call @test_always_fails %1 failed (1): the planted failure, 42"));
  gc_tensor_map_clear(&p), gc_tensor_map_clear(&in), gc_tensor_map_clear(&o);
  gc_graph_free(g);
}

/* {effects} calls stay through the pipeline: two equal ones are not merged
 * and an unused one is not dropped; equal pure calls merge. */
static void test_effects_survive_passes(void **state) {
  (void)state;
  gc_graph *g = parse("graph @g {\n  %x = input \"x\" : f32[4]\n"
                      "  %a = call @erff(%x) {elementwise} : f32[4]\n"
                      "  %b = call @erff(%x) {elementwise} : f32[4]\n"
                      "  %c = call @erff(%x) {elementwise, effects} : f32[4]\n"
                      "  %d = call @erff(%x) {elementwise, effects} : f32[4]\n"
                      "  %u = call @erff(%x) {elementwise, effects} : f32[4]\n"
                      "  %s = add %a, %b : f32[4]\n  %t = add %c, %d : f32[4]\n"
                      "  output \"s\" = %s\n  output \"t\" = %t\n}\n");
  gc_diag d = {0};
  gc_graph *out = gc_run_passes(gc_graph_clone(g), "simplify,cse,dce,fuse,remat,plan", NULL, &d);
  if (!out) fail_msg("passes: %s", d.msg);
  int pure = 0, effects = 0;
  for (int i = 0; i < out->n_nodes; i++)
    if (out->nodes[i]->op == GC_OP_CALL) out->nodes[i]->attrs.call.effects ? effects++ : pure++;
  assert_int_equal(pure, 1);
  assert_int_equal(effects, 3);
  gc_graph_free(out);
  gc_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gradients_through_calls), cmocka_unit_test(test_step_equals_interpreter),
      cmocka_unit_test(test_f32_libm_calls),          cmocka_unit_test(test_unknown_name),
      cmocka_unit_test(test_wrong_signature),         cmocka_unit_test(test_missing_vjp),
      cmocka_unit_test(test_callee_failure),          cmocka_unit_test(test_effects_survive_passes),
      cmocka_unit_test(test_generated_operands),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
