/* --check-nans end to end: a planted log of a negative number in a forward
 * kernel and a sqrt(0) gradient in a backward kernel are named (node, line
 * of the dump, label, inputs, forward origin) on both backends; the
 * reproducer gc-run turns into the same NaN; a clean run reports nothing;
 * in a real model (qwen2, one layer), a planted rsqrt(0) in a norm is named,
 * and a diverging training step stops gc-train with exit 2 and nothing
 * saved. */
#include "tests/tools/nan_fixture.h"

#include <math.h>
#include <string.h>

static const char *const backends[] = {"llvm", "interp"};

/* ---- forward: log of a negative number ------------------------------------ */

static const char fwd[] = "graph @g {\n"
                          "  %x = input \"x\" : f32[2,3]\n"
                          "  %w = param \"w\" : f32[2,3]\n"
                          "  %a = add %x, %w {label=\"layer.pre\"} : f32[2,3]\n"
                          "  %l = log %a {label=\"layer.log\"} : f32[2,3]\n"
                          "  %e = exp %l : f32[2,3]\n"
                          "  %s = reduce_sum %e {axes=[0,1]} : f32[]\n"
                          "  output \"loss\" = %s\n"
                          "}\n";

static void write_fwd(gc_fixture *f, float bad) {
  const int64_t dims[2] = {2, 3};
  const float x[6] = {1, 2, 3, 4, bad, 6}, w[6] = {0};
  gc_tensor_map m;
  gc_tensor_map_init(&m);
  fixture_write_text(f, "fwd.gcir", fwd);
  put(&m, "x", 2, dims, x);
  save(f, "x.safetensors", &m);
  put(&m, "w", 2, dims, w);
  save(f, "w.safetensors", &m);
}

static void test_forward_log(void **state) {
  gc_fixture *f = *state;
  write_fwd(f, -9);
  for (int b = 0; b < 2; b++) {
    char args[512];
    snprintf(args, sizeof args, "fwd.gcir --params w.safetensors --inputs x.safetensors -o o.safetensors "
                                "--check-nans --nan-dir nd --backend %s", backends[b]);
    assert_int_equal(fixture_run(f, "gc-run", args), 1);
    expect(f, "gc-run: NaN in step 1, forward");
    expect(f, "first produced by\n  %3 = log %2 {label=\"layer.log\"} : f32[2,3]   (line 6 of nd/nan-program.gcir)");
    expect(f, "at [1,1] input %2 is -9; 1 of 6 outputs are NaN, the first at [1,1]");
    expect(f, "reproducer: gc-run nd/nan-kernel.gcir --inputs nd/nan-inputs.safetensors --check-nans --nan-dir nd/again");
    expect_line(f, "nd/nan-program.gcir", 6, "%3 = log %2");
    assert_false(exists(f, "o.safetensors"));
    /* the reproducer makes the same NaN, from the same input */
    assert_int_equal(fixture_run(f, "gc-run", "nd/nan-kernel.gcir --inputs nd/nan-inputs.safetensors --check-nans "
                                              "--nan-dir nd2"), 1);
    expect(f, "NaN in step 1, forward");
    expect(f, " = log %");   /* the kernel's own numbering; with its operands (fused: the add too) */
    expect(f, "label=\"layer.log\"");
    expect(f, " is -9; 1 of 6 outputs are NaN, the first at [1,1]");
  }
}

/* ---- backward: the gradient of sqrt at 0 ----------------------------------- */

static const char bwd[] = "graph @g {\n"
                          "  %w = param \"w\" : f32[2,3]\n"
                          "  %z = input \"z\" : f32[2]\n"
                          "  %q = mul %w, %w {label=\"block.square\"} : f32[2,3]\n"
                          "  %s = reduce_sum %q {axes=[1], label=\"block.norm\"} : f32[2]\n"
                          "  %r = sqrt %s {label=\"block.norm\"} : f32[2]\n"
                          "  %t = mul %r, %z {label=\"block.gate\"} : f32[2]\n"
                          "  %l = reduce_sum %t {axes=[0], label=\"block.loss\"} : f32[]\n"
                          "  output \"loss\" = %l\n"
                          "}\n";

static void test_backward_sqrt(void **state) {
  gc_fixture *f = *state;
  const int64_t wd[2] = {2, 3}, zd[1] = {2};
  const float w[6] = {1, 2, 3, 0, 0, 0}, z[2] = {1, 0};
  gc_tensor_map m;
  gc_tensor_map_init(&m);
  fixture_write_text(f, "bwd.gcir", bwd);
  put(&m, "w", 2, wd, w);
  save(f, "w.safetensors", &m);
  put(&m, "z", 1, zd, z);
  save(f, "z.safetensors", &m);
  for (int b = 0; b < 2; b++) {
    char args[512];
    snprintf(args, sizeof args, "bwd.gcir --params w.safetensors --inputs z.safetensors -o o.safetensors --grad loss "
                                "--check-nans --nan-dir nd --backend %s", backends[b]);
    assert_int_equal(fixture_run(f, "gc-run", args), 1);
    expect(f, "gc-run: NaN in step 1, backward");
    /* 0.5 * dy / sqrt(s) with dy = 0 and s = 0 */
    expect(f, "= div %");
    expect(f, "{label=\"grad.block.norm\"} : f32[2]   (line ");
    expect(f, "is 0; 1 of 2 outputs are NaN, the first at [1]");
    expect(f, "it is the gradient of %");
    expect(f, " = sqrt %");
    expect(f, "label=\"block.norm\"} : f32[2]   (line ");   /* {offset=..., when stored */
    expect(f, "of nd/nan-program.gcir), in block.norm");
    assert_int_equal(fixture_run(f, "gc-run", "nd/nan-kernel.gcir --inputs nd/nan-inputs.safetensors --check-nans "
                                              "--nan-dir nd2"), 1);
    expect(f, "NaN in step 1, forward");   /* the reproducer has no backward: it is the kernel's nodes */
    expect(f, "label=\"grad.block.norm\"");
    expect(f, "is 0; 1 of 2 outputs are NaN, the first at [1]");
  }
}

/* ---- a clean run: nothing reported, the same results -------------------------- */

static void test_clean_run(void **state) {
  gc_fixture *f = *state;
  write_fwd(f, 5);
  for (int b = 0; b < 2; b++) {
    char args[512];
    snprintf(args, sizeof args, "fwd.gcir --params w.safetensors --inputs x.safetensors -o o.safetensors "
                                "--check-nans --check-infs --backend %s", backends[b]);
    assert_int_equal(fixture_run(f, "gc-run", args), 0);
    assert_string_equal(f->err, "");
    assert_false(exists(f, "gc-nan"));
    gc_tensor_map o;
    gc_tensor_map_init(&o);
    char p[256];
    gc_diag d;
    fixture_path(f, "o.safetensors", p, sizeof p);
    if (gc_safetensors_read(p, &o, &d)) fail_msg("%s", d.msg);
    const gc_tensor *loss = gc_tensor_map_get(&o, "loss");
    assert_non_null(loss);
    assert_float_equal(gc_tensor_load(loss, 0), 21.0, 1e-4);
    gc_tensor_map_clear(&o);
  }
}

/* With the check on, the kernels are the same code: their files, named
 * after their code, are the same (llvm). */
static void test_kernels_unchanged(void **state) {
  gc_fixture *f = *state;
  write_fwd(f, 5);
  assert_int_equal(fixture_run(f, "gc-run", "fwd.gcir --params w.safetensors --inputs x.safetensors -o o.safetensors "
                                            "--backend llvm --emit-llvm off"), 0);
  assert_int_equal(fixture_run(f, "gc-run", "fwd.gcir --params w.safetensors --inputs x.safetensors -o o.safetensors "
                                            "--backend llvm --emit-llvm on --check-nans --check-infs"), 0);
  size_t a, b;
  char *off = fixture_slurp(f, "off/kernels.txt", &a), *on = fixture_slurp(f, "on/kernels.txt", &b);
  assert_non_null(strstr(off, "k0 g"));
  assert_string_equal(off, on);
  free(off), free(on);
}

/* ---- a real model's step ---------------------------------------------------------- */

/* qwen2 with one layer and a learning rate that makes step 2 overflow: the
 * first NaN is named in the model's IR, gc-train exits 2 without saving,
 * and the reproducer makes it again. */
static void test_qwen2_step(void **state) {
  gc_fixture *f = *state;
  char text[4096];
  size_t n = 0;
  while (n + 40 < sizeof text) n += (size_t)snprintf(text + n, sizeof text - n, "to be or not to be, %zu\n", n % 97);
  fixture_write(f, "corpus.txt", text, n);
  int rc = fixture_run(f, "gc-train", "qwen2_tiny --set num_hidden_layers=1 --data corpus.txt --batch 2 --seq 16 "
                                      "--steps 4 --warmup 1 --lr 1e9 --max-new 0 --check-nans --out run");
  if (rc != 2) fail_msg("gc-train: exit %d, stderr:\n%s", rc, f->err);
  expect(f, "gc-train: error: NaN in step 2, ");
  expect(f, "first produced by\n  %");
  expect(f, "{label=\"model.layers.0.");
  expect(f, "(line ");
  expect(f, "of gc-nan/nan-program.gcir)");
  expect(f, "outputs are NaN, the first at [");
  expect(f, "stopped without saving");
  assert_false(exists(f, "run/model.safetensors"));
  assert_true(exists(f, "gc-nan/nan-kernel.gcir"));
  assert_int_equal(fixture_run(f, "gc-run", "gc-nan/nan-kernel.gcir --inputs gc-nan/nan-inputs.safetensors "
                                            "--check-nans --nan-dir nd2"), 1);
  expect(f, "gc-run: NaN in step 1, ");
  expect(f, "first produced by\n  %");
  expect(f, "{label=\"model.layers.0.");
}

/* qwen2's forward with a planted zero embedding and rms_norm_eps=0: the
 * first layer's norm takes rsqrt(0).  --check-infs names the rsqrt,
 * --check-nans the product 0 * inf after it. */
static void test_qwen2_planted_norm(void **state) {
  gc_fixture *f = *state;
  const int64_t dims[2] = {512, 128};
  gc_type t = gc_type_make(GC_F32, 2, dims);
  gc_tensor_map m;
  gc_tensor_map_init(&m);
  gc_tensor *zero = gc_tensor_new(&t);
  assert_non_null(zero);
  memset(zero->data, 0, gc_tensor_bytes(zero));
  gc_tensor_map_put(&m, "model.embed_tokens.weight", zero);
  save(f, "embed.safetensors", &m);
  const char *model = "model:qwen2_tiny --set num_hidden_layers=1,rms_norm_eps=0 --params embed.safetensors --init 1 "
                      "--random-inputs 1 --batch 1 --seq 8 --nan-dir nd";
  char args[512];
  snprintf(args, sizeof args, "%s --check-infs", model);
  assert_int_equal(fixture_run(f, "gc-run", args), 1);
  expect(f, "gc-run: Inf in step 1, forward (kernel k");
  expect(f, " = rsqrt %");
  expect(f, " {label=\"model.layers.0.input_layernorm\"} : f32[1,8,1]   (line ");
  expect(f, " is 0; 8 of 8 outputs are Inf, the first at [0,0,0]");
  snprintf(args, sizeof args, "%s --check-nans", model);
  assert_int_equal(fixture_run(f, "gc-run", args), 1);
  expect(f, "gc-run: NaN in step 1, forward (kernel k");
  expect(f, " = mul %");
  expect(f, " {label=\"model.layers.0.input_layernorm\"} : f32[1,8,128]   (line ");
  expect(f, " is inf; 1024 of 1024 outputs are NaN, the first at [0,0,0]");
  assert_int_equal(fixture_run(f, "gc-run", "nd/nan-kernel.gcir --inputs nd/nan-inputs.safetensors --check-nans "
                                            "--nan-dir nd2"), 1);
  expect(f, " is inf; 1024 of 1024 outputs are NaN, the first at [0,0,0]");
}

static void test_help(void **state) {
  gc_fixture *f = *state;
  assert_int_equal(fixture_run(f, "gc-run", "--help"), 0);
  assert_non_null(strstr(f->out, "--check-nans"));
  assert_non_null(strstr(f->out, "--nan-dir DIR"));
  assert_int_equal(fixture_run(f, "gc-train", "--help"), 0);
  assert_non_null(strstr(f->out, "--check-infs"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_forward_log, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_backward_sqrt, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_clean_run, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_kernels_unchanged, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_qwen2_step, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_qwen2_planted_norm, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_help, fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
