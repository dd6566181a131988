/* --check-nans in a real model's step: qwen2_tiny (one layer) as gc-opt
 * prints it, with a NaN planted into its text, on both backends:
 * - a log of a negative number in the forward of the whole training step
 *   (forward, loss, backward, AdamW): log(o_proj's output), whose result
 *   joins the layer's residual, is named with its line and label;
 * - a sqrt(0) gradient in the backward (gc-run --grad loss: autodiff builds
 *   the backward from the planted forward): sqrt(x * max(x, 0)) squared
 *   joins the residual, finite forward; its gradient 0.5 * 0 / sqrt(0) is
 *   named (the product with max(x, 0) carries the NaN out of its kernel),
 *   and "it is the gradient of" the planted sqrt, with its line and label;
 * each reproducer makes the same NaN again in gc-run, and the same step
 * without the plant reports nothing.  A NaN the backward makes and drops
 * inside one kernel is seen by the interpreter only.  Through remat, the
 * origin named is still the forward node. */
#include "tests/tools/nan_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const backends[] = {"llvm", "interp"};

static const char model[] = "model:qwen2_tiny --set num_hidden_layers=1 --batch 1 --seq 8 --passes=";

/* s with every "$X" replaced by x and "$T" by t, appended to buf[*n]. */
static void append_subst(char *buf, size_t size, size_t *n, const char *s, const char *x, const char *t) {
  for (; *s; s++) {
    const char *r = NULL;
    if (s[0] == '$' && (s[1] == 'X' || s[1] == 'T')) r = s[1] == 'X' ? x : t, s++;
    size_t len = r ? strlen(r) : 1;
    if (*n + len >= size) fail_msg("planted text too long");
    memcpy(buf + *n, r ? r : s, len);
    *n += len;
  }
  buf[*n] = 0;
}

/* Writes `to`: the model's text in `from` with `lines` planted before the
 * layer's first residual add (`%R = add %H, %X {label="model.layers.0"} : T`,
 * X the attention's output), which then reads %plant instead of %X.  In
 * `lines`, $X is X's name and $T its type. */
static void plant(const gc_fixture *f, const char *from, const char *to, const char *lines) {
  static const char residual[] = "{label=\"model.layers.0\"} : ";
  size_t len;
  char *text = fixture_slurp(f, from, &len);
  char *label = strstr(text, residual);
  assert_non_null(label);
  char *line = label;
  while (line > text && line[-1] != '\n') line--;
  char *add = strstr(line, " = add %"), *comma = strstr(line, ", %");
  assert_true(add && comma && add < comma && comma < label);
  char x[32], type[64];
  int xl = (int)(label - 1 - (comma + 2)), tl = (int)strcspn(label + sizeof residual - 1, "\n");
  assert_true(xl > 0 && xl < (int)sizeof x && tl < (int)sizeof type);
  snprintf(x, sizeof x, "%.*s", xl, comma + 2);
  snprintf(type, sizeof type, "%.*s", tl, label + sizeof residual - 1);
  size_t size = len + 4096, n = 0;
  char *out = malloc(size);
  assert_non_null(out);
  memcpy(out, text, (size_t)(line - text)), n = (size_t)(line - text);
  append_subst(out, size, &n, lines, x, type);
  n += (size_t)snprintf(out + n, size - n, "%.*s%%plant%s", (int)(comma + 2 - line), line, label - 1);
  fixture_write_text(f, to, out);
  free(out), free(text);
}

/* input_ids, labels (token i is 37 * i mod 512) and attention_mask (ones),
 * i64[1,8], into inputs.safetensors. */
static void write_inputs(const gc_fixture *f) {
  const int64_t dims[2] = {1, 8};
  gc_type t = gc_type_make(GC_I64, 2, dims);
  const char *const names[3] = {"input_ids", "labels", "attention_mask"};
  gc_tensor_map m;
  gc_tensor_map_init(&m);
  for (int k = 0; k < 3; k++) {
    gc_tensor *x = gc_tensor_new(&t);
    assert_non_null(x);
    for (int i = 0; i < 8; i++) gc_tensor_store(x, i, k == 2 ? 1 : (37 * i) % 512);
    gc_tensor_map_put(&m, names[k], x);
  }
  save(f, "inputs.safetensors", &m);
}

/* The optimizer's state of the step in `file` at zeros (its step too), into
 * opt.safetensors: --init would draw them from N(0, 0.02), and AdamW takes
 * the square root of its second moments. */
static void write_opt_state(const gc_fixture *f, const char *file) {
  size_t len;
  gc_diag d;
  char *text = fixture_slurp(f, file, &len);
  gc_graph *g = gc_parse(text, len, &d);
  if (!g) fail_msg("%s:%d: %s", file, d.line, d.msg);
  gc_tensor_map m;
  gc_tensor_map_init(&m);
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *n = g->nodes[i];
    if (n->op != GC_OP_PARAM || strncmp(n->attrs.name.name, "opt.", 4)) continue;
    gc_tensor *x = gc_tensor_new(&n->type);
    assert_non_null(x);
    memset(x->data, 0, gc_tensor_bytes(x));
    gc_tensor_map_put(&m, n->attrs.name.name, x);
  }
  assert_true(m.n > 2);
  save(f, "opt.safetensors", &m);
  gc_graph_free(g);
  free(text);
}

/* The report names, after `intro`, a node as printed in the dump: its text
 * contains `want`, and the line of DIR/nan-program.gcir it gives holds it. */
static void expect_node(const gc_fixture *f, const char *intro, const char *want, const char *dir) {
  const char *s = strstr(f->err, intro);
  if (!s) fail_msg("wanted \"%s\" in stderr:\n%s", intro, f->err);
  s += strlen(intro);
  const char *at = strstr(s, "   (line ");
  assert_non_null(at);
  char node[512], file[128], tail[160];
  snprintf(node, sizeof node, "%.*s", (int)(at - s), s);
  if (!strstr(node, want)) fail_msg("the node \"%s\" lacks \"%s\"", node, want);
  int line = atoi(at + 9);
  snprintf(file, sizeof file, "%s/nan-program.gcir", dir);
  snprintf(tail, sizeof tail, "%d of %s)", line, file);
  assert_true(line > 0 && strncmp(at + 9, tail, strlen(tail)) == 0);
  expect_line(f, file, line, node);
}

/* The same run of the unplanted program under both checks: nothing
 * reported, no NaN folder, its outputs written; then the folders of the
 * planted runs go. */
static void expect_clean(gc_fixture *f, const char *file, const char *run, const char *backend) {
  char args[512];
  snprintf(args, sizeof args, "%s %s --check-nans --check-infs --nan-dir nd3 --backend %s", file, run, backend);
  assert_int_equal(fixture_run(f, "gc-run", args), 0);
  assert_string_equal(f->err, "");
  assert_false(exists(f, "nd3"));
  assert_true(exists(f, "o.safetensors"));
  char rm[256];
  snprintf(rm, sizeof rm, "rm -rf '%s/nd' '%s/nd2' '%s/o.safetensors'", f->dir, f->dir, f->dir);
  assert_int_equal(system(rm), 0);
}

/* ---- forward: a log of a negative number in the training step ---------------- */

static const char planted_log[] =
    "  %plant_log = log $X {label=\"model.layers.0.planted\"} : $T\n"
    "  %plant = add $X, %plant_log {label=\"model.layers.0.planted\"} : $T\n";

static void test_step_forward_log(void **state) {
  gc_fixture *f = *state;
  char args[512];
  snprintf(args, sizeof args, "%s --train -o step.gcir", model);
  assert_int_equal(fixture_run(f, "gc-opt", args), 0);
  plant(f, "step.gcir", "planted.gcir", planted_log);
  write_inputs(f);
  write_opt_state(f, "step.gcir");
  for (int b = 0; b < 2; b++) {
    const char *run = "--params opt.safetensors --init 1 --inputs inputs.safetensors -o o.safetensors";
    snprintf(args, sizeof args, "planted.gcir %s --check-nans --nan-dir nd --backend %s", run, backends[b]);
    assert_int_equal(fixture_run(f, "gc-run", args), 1);
    expect(f, "gc-run: NaN in step 1, forward (");   /* (kernel kN), interp: (node %N) */
    expect_node(f, "first produced by\n  ", " = log %", "nd");
    expect(f, " {label=\"model.layers.0.planted\"} : f32[1,8,128]   (line ");
    expect(f, "input %");
    expect(f, " is -");   /* o_proj's output, negative about half the time */
    expect(f, " of 1024 outputs are NaN, the first at [0,");
    assert_null(strstr(f->err, "it is the gradient of"));
    assert_false(exists(f, "o.safetensors"));
    assert_int_equal(fixture_run(f, "gc-run", "nd/nan-kernel.gcir --inputs nd/nan-inputs.safetensors --check-nans "
                                              "--nan-dir nd2"), 1);
    expect(f, "gc-run: NaN in step 1, forward");
    expect_node(f, "first produced by\n  ", " = log %", "nd2");
    expect(f, "label=\"model.layers.0.planted\"} : f32[1,8,128]   (line ");
    expect(f, " of 1024 outputs are NaN, the first at [0,");
    expect_clean(f, "step.gcir", run, backends[b]);   /* everything written */
  }
}

/* ---- backward: the gradient of sqrt at 0 ------------------------------------- */

static const char planted_sqrt[] =
    "  %plant_zero = const 0 {label=\"model.layers.0.planted\"} : $T\n"
    "  %plant_relu = max $X, %plant_zero {label=\"model.layers.0.planted\"} : $T\n"
    "  %plant_r = mul $X, %plant_relu {label=\"model.layers.0.planted\"} : $T\n"
    "  %plant_sqrt = sqrt %plant_r {label=\"model.layers.0.planted\"} : $T\n"
    "  %plant_sq = mul %plant_sqrt, %plant_sqrt {label=\"model.layers.0.planted\"} : $T\n"
    "  %plant = add $X, %plant_sq {label=\"model.layers.0.planted\"} : $T\n";

/* The model's step as gc-opt writes it (fwd.gcir), the same with `lines`
 * planted (planted.gcir), and its inputs. */
static void planted_step(gc_fixture *f, const char *lines) {
  char args[512];
  snprintf(args, sizeof args, "%s -o fwd.gcir", model);
  assert_int_equal(fixture_run(f, "gc-opt", args), 0);
  plant(f, "fwd.gcir", "planted.gcir", lines);
  write_inputs(f);
}

static void test_step_backward_sqrt(void **state) {
  gc_fixture *f = *state;
  char args[512];
  planted_step(f, planted_sqrt);
  for (int b = 0; b < 2; b++) {
    const char *run = "--init 1 --inputs inputs.safetensors -o o.safetensors --grad loss";
    snprintf(args, sizeof args, "planted.gcir %s --check-nans --nan-dir nd --backend %s", run, backends[b]);
    assert_int_equal(fixture_run(f, "gc-run", args), 1);
    expect(f, "gc-run: NaN in step 1, backward (");
    /* sqrt's gradient 0.5 * dy / sqrt(r): dy = 2 * sqrt(r) * g is 0 where r is */
    expect_node(f, "first produced by\n  ", " = div %", "nd");
    expect(f, "label=\"grad.model.layers.0.planted\"} : f32[1,8,128]   (line ");
    expect(f, " is -0; ");   /* x < 0: x * max(x, 0) is -0 */
    expect(f, " of 1024 outputs are NaN, the first at [0,");
    expect_node(f, "it is the gradient of ", " = sqrt %", "nd");
    expect(f, " {offset=");   /* the dump is the planned program */
    expect(f, "label=\"model.layers.0.planted\"} : f32[1,8,128]   (line ");
    expect(f, "of nd/nan-program.gcir), in model.layers.0.planted\n");
    assert_false(exists(f, "o.safetensors"));
    assert_int_equal(fixture_run(f, "gc-run", "nd/nan-kernel.gcir --inputs nd/nan-inputs.safetensors --check-nans "
                                              "--nan-dir nd2"), 1);
    expect(f, "gc-run: NaN in step 1, forward");   /* the kernel alone has no backward */
    expect_node(f, "first produced by\n  ", " = div %", "nd2");
    expect(f, "label=\"grad.model.layers.0.planted\"} : f32[1,8,128]   (line ");
    expect(f, " of 1024 outputs are NaN, the first at [0,");
    expect_clean(f, "fwd.gcir", run, backends[b]);   /* every gradient written */
  }
}

/* ---- a NaN the backward makes and drops in the same kernel --------------------- */

/* sqrt(max(x, 0)) squared: its gradient is 0 / 0 where x < 0, and max's
 * gradient then selects 0 there (a where), in the same fused kernel.  The
 * kernel's results are finite: the llvm backend, which checks results, sees
 * nothing; the interpreter, which checks every node, names the div. */
static const char planted_masked[] =
    "  %plant_zero = const 0 {label=\"model.layers.0.planted\"} : $T\n"
    "  %plant_relu = max $X, %plant_zero {label=\"model.layers.0.planted\"} : $T\n"
    "  %plant_sqrt = sqrt %plant_relu {label=\"model.layers.0.planted\"} : $T\n"
    "  %plant_sq = mul %plant_sqrt, %plant_sqrt {label=\"model.layers.0.planted\"} : $T\n"
    "  %plant = add $X, %plant_sq {label=\"model.layers.0.planted\"} : $T\n";

static void test_step_masked_nan(void **state) {
  gc_fixture *f = *state;
  char args[512];
  planted_step(f, planted_masked);
  const char *run = "planted.gcir --init 1 --inputs inputs.safetensors -o o.safetensors --grad loss --check-nans";
  snprintf(args, sizeof args, "%s --backend llvm", run);
  assert_int_equal(fixture_run(f, "gc-run", args), 0);
  assert_string_equal(f->err, "");
  assert_false(exists(f, "gc-nan"));
  snprintf(args, sizeof args, "%s --backend interp", run);
  assert_int_equal(fixture_run(f, "gc-run", args), 1);
  expect(f, "gc-run: NaN in step 1, backward (node %");
  expect_node(f, "first produced by\n  ", " = div %", "gc-nan");
  expect_node(f, "it is the gradient of ", " = sqrt %", "gc-nan");
}

/* ---- the forward origin through remat ------------------------------------------ */

/* The line (1-based) of the first line of `file` holding both a and b; 0: none. */
static int first_line_with(const gc_fixture *f, const char *file, const char *a, const char *b) {
  size_t len;
  char *s = fixture_slurp(f, file, &len), *p = s;
  int n = 0, found = 0;
  while (p && !found) {
    char *end = strchr(p, '\n');
    if (end) *end = 0;
    n++;
    if (strstr(p, a) && strstr(p, b)) found = n;
    p = end ? end + 1 : NULL;
  }
  free(s);
  return found;
}

/* The sqrt plant with a memory budget under which remat runs the planted
 * sqrt again before the backward kernel that divides by it: the report
 * still names the forward sqrt (the first in the dump), not remat's copy. */
static void test_step_backward_sqrt_remat(void **state) {
  gc_fixture *f = *state;
  assert_int_equal(fixture_run(f, "gc-opt", "model:qwen2_tiny --set num_hidden_layers=1 --batch 2 --seq 64 "
                                            "--passes= -o fwd.gcir"), 0);
  plant(f, "fwd.gcir", "planted.gcir", planted_sqrt);
  assert_int_equal(fixture_run(f, "gc-run", "planted.gcir --init 1 --random-inputs 1 -o o.safetensors --grad loss "
                                            "--mem-budget 2700K --check-nans --nan-dir nd"), 1);
  expect(f, "(sqrt model.layers.0.planted, ");   /* remat's note: it runs the sqrt again */
  expect(f, "gc-run: NaN in step 1, backward (kernel k");
  expect_node(f, "first produced by\n  ", " = div %", "nd");
  expect_node(f, "it is the gradient of ", " = sqrt %", "nd");
  int line = first_line_with(f, "nd/nan-program.gcir", " = sqrt %", "label=\"model.layers.0.planted\"");
  assert_true(line > 0);
  char want[128];
  snprintf(want, sizeof want, "   (line %d of nd/nan-program.gcir), in model.layers.0.planted\n", line);
  expect(f, want);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_step_forward_log, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_step_backward_sqrt, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_step_masked_nan, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_step_backward_sqrt_remat, fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
