/* gc-run end to end: the IR.md mlp run from files, values compared with the
 * same computation done here in C; --grad, updates, and the error paths. */
#include "tests/tools/tool_fixture.h"
#include "backends/runtime/bench.h"
#include "frontend/builder.h"
#include "io/file.h"
#include "io/safetensors.h"

#include <math.h>

#include <string.h>

enum { B = 4, K = 8, N = 16 };

/* ---- helpers ------------------------------------------------------------ */

static gc_tensor *tensor(gc_dtype dt, int rank, const int64_t *dims) {
  gc_type t = gc_type_make(dt, rank, dims);
  gc_tensor *x = gc_tensor_new(&t);
  assert_non_null(x);
  return x;
}

static void save(const gc_fixture *f, const char *name, gc_tensor_map *m) {
  char p[128];
  gc_diag d;
  fixture_path(f, name, p, sizeof p);
  if (gc_safetensors_write(p, m, &d) < 0) fail_msg("%s", d.msg);
  gc_tensor_map_clear(m);
}

static void load(const gc_fixture *f, const char *name, gc_tensor_map *m) {
  char p[128];
  gc_diag d;
  fixture_path(f, name, p, sizeof p);
  gc_tensor_map_init(m);
  if (gc_safetensors_read(p, m, &d) < 0) fail_msg("%s", d.msg);
}

static const gc_tensor *get(const gc_tensor_map *m, const char *name, gc_dtype dt, int64_t numel) {
  const gc_tensor *t = gc_tensor_map_get(m, name);
  if (!t) fail_msg("O has no tensor \"%s\"", name);
  assert_int_equal(t->type.dtype, dt);
  assert_int_equal(gc_tensor_numel(t), numel);
  return t;
}

/* ---- the mlp: files and the reference computation ------------------------ */

static double x_at(int i, int k) { return 0.5 * sin(1.0 + i * K + k); }
static double w_at(int k, int j) { return 0.3 * cos(0.7 * (k * N + j)); }
static double b_at(int j) { return 0.1 * j - 0.5; }

/* a = tanh(x·w + b), loss = Σa; dloss/dw and dloss/db by the chain rule. */
typedef struct {
  double a[B][N], loss, gw[K][N], gb[N];
} mlp_ref;

static void mlp_reference(mlp_ref *r) {
  memset(r, 0, sizeof *r);
  for (int i = 0; i < B; i++)
    for (int j = 0; j < N; j++) {
      double y = b_at(j);
      for (int k = 0; k < K; k++) y += x_at(i, k) * w_at(k, j);
      r->a[i][j] = tanh(y);
      r->loss += r->a[i][j];
      double dy = 1 - r->a[i][j] * r->a[i][j];
      r->gb[j] += dy;
      for (int k = 0; k < K; k++) r->gw[k][j] += x_at(i, k) * dy;
    }
}

static const char mlp_f32[] =
    "graph @mlp {\n"
    "  %x  = input \"x\" : f32[4,8]\n"
    "  %w  = param \"w\" : f32[8,16]\n"
    "  %b  = param \"b\" : f32[16]\n"
    "  %h  = dot %x, %w : f32[4,16]\n"
    "  %bb = broadcast %b : f32[4,16]\n"
    "  %y  = add %h, %bb : f32[4,16]\n"
    "  %a  = tanh %y : f32[4,16]\n"
    "  %s  = reduce_sum %a {axes=[0,1]} : f32[]\n"
    "  output \"loss\" = %s\n"
    "  output \"a\" = %a\n"
    "}\n";

/* The same in f64, with two updates: b halved, a step counter. */
static const char mlp_f64[] =
    "graph @mlp64 {\n"
    "  %x  = input \"x\" : f64[4,8]\n"
    "  %w  = param \"w\" : f64[8,16]\n"
    "  %b  = param \"b\" : f64[16]\n"
    "  %step = param \"step\" : i64[]\n"
    "  %h  = dot %x, %w : f64[4,16]\n"
    "  %bb = broadcast %b : f64[4,16]\n"
    "  %y  = add %h, %bb : f64[4,16]\n"
    "  %a  = tanh %y : f64[4,16]\n"
    "  %s  = reduce_sum %a {axes=[0,1]} : f64[]\n"
    "  %half = const 0.5 : f64[16]\n"
    "  %nb = mul %b, %half : f64[16]\n"
    "  %one = const 1 : i64[]\n"
    "  %next = add %step, %one : i64[]\n"
    "  output \"loss\" = %s\n"
    "  update \"b\" = %nb\n"
    "  update \"step\" = %next\n"
    "}\n";

/* P (w, b, and step when `with_step`) of dtype `pdt` and I (x plus an unused
 * extra) of dtype `dt`. */
static void write_mlp_tensors(const gc_fixture *f, gc_dtype dt, gc_dtype pdt, bool with_step, bool with_b) {
  gc_tensor_map p, in;
  gc_tensor_map_init(&p);
  gc_tensor_map_init(&in);
  gc_tensor *x = tensor(dt, 2, (int64_t[]){B, K}), *w = tensor(pdt, 2, (int64_t[]){K, N}),
            *b = tensor(pdt, 1, (int64_t[]){N});
  for (int i = 0; i < B; i++)
    for (int k = 0; k < K; k++) gc_tensor_store(x, i * K + k, x_at(i, k));
  for (int k = 0; k < K; k++)
    for (int j = 0; j < N; j++) gc_tensor_store(w, k * N + j, w_at(k, j));
  for (int j = 0; j < N; j++) gc_tensor_store(b, j, b_at(j));
  gc_tensor_map_put(&p, "w", w);
  if (with_b) gc_tensor_map_put(&p, "b", b);
  else gc_tensor_free(b);
  if (with_step) {
    gc_tensor *s = tensor(GC_I64, 0, NULL);
    ((int64_t *)s->data)[0] = 7;
    gc_tensor_map_put(&p, "step", s);
  }
  gc_tensor_map_put(&in, "x", x);
  gc_tensor_map_put(&in, "token_type_ids", tensor(GC_I64, 1, (int64_t[]){3}));
  save(f, "p.safetensors", &p);
  save(f, "i.safetensors", &in);
}

/* ---- tests -------------------------------------------------------------- */

static void test_mlp_f32(void **state) {
  gc_fixture *f = *state;
  mlp_ref r;
  mlp_reference(&r);
  fixture_write_text(f, "mlp.gcir", mlp_f32);
  write_mlp_tensors(f, GC_F32, GC_F32, false, true);
  int rc = fixture_run(f, "gc-run", "mlp.gcir --params p.safetensors --inputs i.safetensors --out o.safetensors");
  if (rc != 0) fail_msg("exit %d: %s", rc, f->err);
  assert_non_null(strstr(f->err, "note: input \"token_type_ids\" is not used by the graph"));
  gc_tensor_map o;
  load(f, "o.safetensors", &o);
  assert_int_equal(o.n, 2);
  assert_close(gc_tensor_load(get(&o, "loss", GC_F32, 1), 0), r.loss, 1e-6);
  const gc_tensor *a = get(&o, "a", GC_F32, B * N);
  assert_int_equal(a->type.rank, 2);
  for (int i = 0; i < B; i++)
    for (int j = 0; j < N; j++) assert_close(gc_tensor_load(a, i * N + j), r.a[i][j], 1e-6);
  gc_tensor_map_clear(&o);
}

static void test_mlp_f64_grad_and_updates(void **state) {
  gc_fixture *f = *state;
  mlp_ref r;
  mlp_reference(&r);
  fixture_write_text(f, "mlp64.gcir", mlp_f64);
  write_mlp_tensors(f, GC_F64, GC_F64, true, true);
  int rc = fixture_run(f, "gc-run", "mlp64.gcir --params p.safetensors --inputs=i.safetensors --out o.safetensors "
                                     "--grad loss --backend interp");
  if (rc != 0) fail_msg("exit %d: %s", rc, f->err);
  gc_tensor_map o;
  load(f, "o.safetensors", &o);
  /* loss, grad.w, grad.b (step is not a float param), updated b and step */
  assert_int_equal(o.n, 5);
  assert_close(gc_tensor_load(get(&o, "loss", GC_F64, 1), 0), r.loss, 1e-12);
  const gc_tensor *gw = get(&o, "grad.w", GC_F64, K * N), *gb = get(&o, "grad.b", GC_F64, N);
  for (int k = 0; k < K; k++)
    for (int j = 0; j < N; j++) assert_close(gc_tensor_load(gw, k * N + j), r.gw[k][j], 1e-12);
  for (int j = 0; j < N; j++) assert_close(gc_tensor_load(gb, j), r.gb[j], 1e-12);
  const gc_tensor *b = get(&o, "b", GC_F64, N);
  for (int j = 0; j < N; j++) assert_close(gc_tensor_load(b, j), 0.5 * b_at(j), 1e-15);
  assert_int_equal(((const int64_t *)get(&o, "step", GC_I64, 1)->data)[0], 8);
  gc_tensor_map_clear(&o);
}

static void test_missing_and_mistyped(void **state) {
  gc_fixture *f = *state;
  fixture_write_text(f, "mlp.gcir", mlp_f32);
  write_mlp_tensors(f, GC_F32, GC_F32, false, false); /* no "b" */
  assert_int_equal(
      fixture_run(f, "gc-run", "mlp.gcir --params p.safetensors --inputs i.safetensors --out o.safetensors"), 1);
  assert_non_null(strstr(f->err, "\"b\""));
  write_mlp_tensors(f, GC_F32, GC_F64, false, true); /* f64 params for an f32 graph */
  assert_int_equal(
      fixture_run(f, "gc-run", "mlp.gcir --params p.safetensors --inputs i.safetensors --out o2.safetensors"), 1);
  assert_non_null(strstr(f->err, "\"w\""));
  /* without --params at all */
  assert_int_equal(fixture_run(f, "gc-run", "mlp.gcir --inputs i.safetensors --out o3.safetensors"), 1);
  assert_non_null(strstr(f->err, "\"w\""));
  /* nothing was written */
  char p[128];
  fixture_path(f, "o2.safetensors", p, sizeof p);
  assert_null(fopen(p, "r"));
  /* an unreadable tensor file names itself */
  fixture_write_text(f, "junk.safetensors", "junk");
  assert_int_equal(fixture_run(f, "gc-run", "mlp.gcir --params junk.safetensors --out o.safetensors"), 1);
  assert_non_null(strstr(f->err, "junk.safetensors"));
}

static void test_no_params_or_inputs(void **state) {
  gc_fixture *f = *state;
  fixture_write_text(f, "c.gcir",
                     "graph @c {\n  %c = const 2.5 : f64[2]\n  %i = iota {axis=0} : i32[3]\n"
                     "  output \"c\" = %c\n  output \"i\" = %i\n}\n");
  int rc = fixture_run(f, "gc-run", "c.gcir --out o.safetensors");
  if (rc != 0) fail_msg("exit %d: %s", rc, f->err);
  gc_tensor_map o;
  load(f, "o.safetensors", &o);
  assert_int_equal(o.n, 2);
  const gc_tensor *c = get(&o, "c", GC_F64, 2), *i = get(&o, "i", GC_I32, 3);
  assert_true(gc_tensor_load(c, 0) == 2.5 && gc_tensor_load(c, 1) == 2.5);
  for (int k = 0; k < 3; k++) assert_int_equal(((const int32_t *)i->data)[k], k);
  gc_tensor_map_clear(&o);
}

static void test_parse_error(void **state) {
  gc_fixture *f = *state;
  fixture_write_text(f, "bad.gcir", "graph @bad {\n  %x = input \"x\" : f32[2]\n  %y = frobnicate %x : f32[2]\n}\n");
  assert_int_equal(fixture_run(f, "gc-run", "bad.gcir --out o.safetensors"), 1);
  assert_non_null(strstr(f->err, "bad.gcir:3:"));
  assert_non_null(strstr(f->err, "error:"));
  assert_non_null(strstr(f->err, "frobnicate"));
  assert_int_equal(fixture_run(f, "gc-run", "missing.gcir --out o.safetensors"), 1);
  assert_non_null(strstr(f->err, "missing.gcir"));
  fixture_write_text(f, "c.gcir", "graph @c {\n  %c = const 1 : f64[]\n  output \"c\" = %c\n}\n");
  assert_int_equal(fixture_run(f, "gc-run", "c.gcir --grad nope --out o.safetensors"), 1);
  assert_non_null(strstr(f->err, "nope"));
}

/* The README's first graph (the block after "## A first graph"), malloc'd. */
static char *readme_first_graph(void) {
  char path[512];
  snprintf(path, sizeof path, "%s/README.md", GC_SOURCE_DIR);
  size_t len;
  char *readme = gc_read_file(path, &len, NULL);
  assert_non_null(readme);
  const char *at = strstr(readme, "## A first graph");
  assert_non_null(at);
  const char *begin = strstr(at, "```\n"), *end = begin ? strstr(begin + 4, "```") : NULL;
  assert_non_null(end);
  char *graph = strndup(begin + 4, (size_t)(end - begin - 4));
  free(readme);
  return graph;
}

/* The README's first graph runs as the README shows: --init SEED gives the
 * params the file lacks (normal, std 0.02, from the seed and the name, as
 * gc_init_params draws them), --random-inputs the inputs; without --init a
 * missing param says how to get one. */
static void test_readme_graph_with_init(void **state) {
  gc_fixture *f = *state;
  char *text = readme_first_graph();
  fixture_write_text(f, "mlp.gcir", text);
  assert_int_equal(fixture_run(f, "gc-run", "mlp.gcir --random-inputs 1 -o o.safetensors"), 1);
  assert_non_null(strstr(f->err, "gc-run: param \"w\" is missing\n"
                                 "gc-run: --init SEED initialises the params the file lacks\n"));
  int rc = fixture_run(f, "gc-run", "mlp.gcir --init 1 --random-inputs 1 --grad loss -o out.safetensors");
  if (rc) fail_msg("exit %d: %s", rc, f->err);
  /* the same params and inputs drawn here: loss = sum tanh(x w) */
  gc_diag d = {0};
  gc_graph *g = gc_parse(text, strlen(text), &d);
  if (!g) fail_msg("%s", d.msg);
  gc_init_table *rules = calloc(1, sizeof *rules);
  gc_init_table_set(rules, "w", gc_init_normal(0.02));
  gc_tensor_map params, inputs, o;
  gc_tensor_map_init(&params);
  gc_tensor_map_init(&inputs);
  assert_int_equal(gc_init_params(g, rules, 1, &params, &d), 0);
  assert_int_equal(gc_random_inputs(g, &inputs, 1, 0, NULL, &d), 0);
  const gc_tensor *w = get(&params, "w", GC_F32, 8 * 16), *x = get(&inputs, "x", GC_F32, 4 * 8);
  double loss = 0, sq = 0;
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 16; j++) {
      double h = 0;
      for (int k = 0; k < 8; k++) h += gc_tensor_load(x, i * 8 + k) * gc_tensor_load(w, k * 16 + j);
      loss += tanh(h);
    }
  for (int i = 0; i < 8 * 16; i++) sq += gc_tensor_load(w, i) * gc_tensor_load(w, i);
  assert_true(fabs(sqrt(sq / 128) - 0.02) < 0.005);   /* std 0.02 indeed */
  load(f, "out.safetensors", &o);
  assert_int_equal(o.n, 2);   /* loss and grad.w */
  get(&o, "grad.w", GC_F32, 8 * 16);
  assert_close(gc_tensor_load(get(&o, "loss", GC_F32, 1), 0), loss, 1e-5);
  assert_true(fabs(loss) > 1e-3);
  gc_tensor_map_clear(&o);
  /* a param given in P is kept; --init draws only what is missing */
  gc_tensor_map_put(&params, "unused", gc_tensor_clone(w));
  save(f, "p.safetensors", &params);
  assert_int_equal(fixture_run(f, "gc-run", "mlp.gcir --params p.safetensors --init 99 --random-inputs 1 -o o2.safetensors"), 0);
  load(f, "o2.safetensors", &o);
  assert_close(gc_tensor_load(get(&o, "loss", GC_F32, 1), 0), loss, 1e-5);
  gc_tensor_map_clear(&o);
  gc_tensor_map_clear(&inputs);
  gc_init_table_free(rules);
  gc_graph_free(g);
  free(text);
}

/* A usage error is one line naming the problem, then the --help hint, and
 * exit status 2. */
static void expect_usage(gc_fixture *f, const char *args, const char *message) {
  int rc = fixture_run(f, "gc-run", args);
  if (rc != 2 || !strstr(f->err, message))
    fail_msg("gc-run %s: exit %d, stderr:\n%s\n(wanted exit 2 and \"%s\")", args, rc, f->err, message);
  const char *nl = strchr(f->err, '\n');
  assert_non_null(nl);
  assert_true(strstr(f->err, message) < nl);
  assert_string_equal(nl + 1, "Try 'gc-run --help' for more information.\n");
}

static void test_usage(void **state) {
  gc_fixture *f = *state;
  assert_int_equal(fixture_run(f, "gc-run", "--help"), 0);
  /* the help comes from the option table: every flag, the model flags too */
  const char *flags[] = {"-o, --out", "--params", "--inputs", "--grad", "--backend", "--threads", "--bench",
                         "--random-inputs", "--set", "--batch", "--dec-seq", "--init", "--train", "-h, --help",
                         "--no-cache", "--emit-llvm", "--emit-asm", "--compile-only"};
  for (size_t i = 0; i < sizeof flags / sizeof *flags; i++)
    if (!strstr(f->out, flags[i])) fail_msg("--help does not show %s:\n%s", flags[i], f->out);
  assert_non_null(strstr(f->out, "llvm (default)"));
  expect_usage(f, "", "no graph file");
  expect_usage(f, "g.gcir", "--out");
  expect_usage(f, "g.gcir --compile-only --bench 1", "--compile-only runs nothing");
  expect_usage(f, "g.gcir --compile-only -o o.safetensors", "--compile-only runs nothing");
  expect_usage(f, "g.gcir --out o.safetensors --bogus 1", "unknown option '--bogus'");
  expect_usage(f, "g.gcir --out o.safetensors --bogus=1", "unknown option '--bogus'");
  expect_usage(f, "g.gcir -x", "unknown option '-x'");
  expect_usage(f, "g.gcir --out", "--out needs a file name");
  expect_usage(f, "g.gcir -o", "-o needs a file name");
  expect_usage(f, "g.gcir h.gcir --out o.safetensors", "more than one graph file");
  /* --backend is checked against the backends there are, which it lists */
  expect_usage(f, "g.gcir --out o.safetensors --backend tpu", "unknown backend 'tpu' (known: interp");
  expect_usage(f, "g.gcir --out o.safetensors --backend=tpu", "unknown backend 'tpu'");
  expect_usage(f, "g.gcir --bench 0", "--bench takes a positive integer, not '0'");
  expect_usage(f, "g.gcir --bench=x", "--bench takes a positive integer, not 'x'");
  expect_usage(f, "g.gcir -o o.safetensors --threads -1", "--threads takes an integer >= 0, not '-1'");
  expect_usage(f, "g.gcir --bench 1 --random-inputs=-3", "--random-inputs takes an integer seed, not '-3'");
  expect_usage(f, "model:gpt2_tiny -o o.safetensors --batch 0", "--batch takes a positive integer, not '0'");
  expect_usage(f, "model:gpt2_tiny -o o.safetensors --init x", "--init takes an integer seed, not 'x'");
  expect_usage(f, "g.gcir -o o.safetensors --train", "go with model:NAME");
  expect_usage(f, "g.gcir -o o.safetensors --train=1", "--train takes no value");
  expect_usage(f, "g.gcir -o o.safetensors --in i.safetensors", "option '--in' is ambiguous: --inputs, --init");
}

/* -o and --flag=value; a model's run with its flags in both spellings. */
static void test_flag_spellings(void **state) {
  gc_fixture *f = *state;
  fixture_write_text(f, "c.gcir", "graph @c {\n  %c = const 2.5 : f64[2]\n  output \"c\" = %c\n}\n");
  int rc = fixture_run(f, "gc-run", "-o o.safetensors c.gcir --backend=interp --threads=1");
  if (rc != 0) fail_msg("exit %d: %s", rc, f->err);
  gc_tensor_map o;
  load(f, "o.safetensors", &o);
  assert_true(gc_tensor_load(get(&o, "c", GC_F64, 2), 1) == 2.5);
  gc_tensor_map_clear(&o);
  rc = fixture_run(f, "gc-run", "model:gpt2_tiny --set=n_layer=1 --batch=1 --seq 4 --init=3 --random-inputs 5 "
                                "--out=m.safetensors");
  if (rc != 0) fail_msg("exit %d: %s", rc, f->err);
  load(f, "m.safetensors", &o);
  assert_true(gc_tensor_load(get(&o, "loss", GC_F32, 1), 0) > 0);
  assert_int_equal(get(&o, "logits", GC_F32, 4 * 512)->type.dims[1], 4);
  gc_tensor_map_clear(&o);
  /* --bench prints its one line of figures without needing --out */
  rc = fixture_run(f, "gc-run", "model:gpt2_tiny --set n_layer=1 --batch 1 --seq 4 --init 3 --random-inputs=5 "
                                "--bench=2");
  if (rc != 0) fail_msg("exit %d: %s", rc, f->err);
  assert_non_null(strstr(f->out, "median_ms="));
  assert_non_null(strstr(f->out, "gflops="));
}

/* --emit-llvm and --emit-asm: each kernel's LLVM IR (a function per step,
 * the host's target-cpu on it) and assembly, and kernels.txt naming each
 * kernel's file. */
static void test_emit_llvm_and_asm(void **state) {
  gc_fixture *f = *state;
  fixture_write_text(f, "e.gcir",
                     "graph @e {\n  %x = input \"x\" : f32[4,8]\n  %w = input \"w\" : f32[8,3]\n"
                     "  %y = dot %x, %w : f32[4,3]\n  %s = reduce_sum %y {axes=[1]} : f32[4]\n"
                     "  %t = tanh %s : f32[4]\n  output \"t\" = %t\n}\n");
  int rc = fixture_run(f, "gc-run", "e.gcir --backend llvm --random-inputs 1 --bench 1 --no-cache --emit-llvm ll --emit-asm s");
  if (rc != 0) fail_msg("exit %d: %s", rc, f->err);
  static char index[4096], text[1 << 16];
  for (int k = 0; k < 2; k++) {
    const char *dir = k ? "s" : "ll", *suffix = k ? "s" : "ll";
    char path[160];
    snprintf(path, sizeof path, "%s/kernels.txt", dir);
    assert_true(fixture_read(f, path, index, sizeof index) > 0);
    int kernels = 0;
    for (const char *line = strstr(index, "\nk"); line; line = strstr(line + 1, "\nk")) {
      char kname[16], file[64];
      assert_int_equal(sscanf(line + 1, "%15s %63s", kname, file), 2);
      snprintf(path, sizeof path, "%s/%s.%s", dir, file, suffix);
      if (fixture_read(f, path, text, sizeof text) == 0) fail_msg("%s lists %s, which is not there", dir, path);
      assert_non_null(strstr(text, k ? ".text" : "define "));
      if (!k) assert_non_null(strstr(text, "\"target-cpu\""));
      kernels++;
    }
    assert_true(kernels >= 2);   /* the dot, and the row sum with tanh */
  }
}

/* --compile-only compiles and stops (the params it lacks are not asked
 * for: nothing runs), printing the compile's figures; kernels alike in another graph
 * are cache hits there although their nodes have other numbers (the cache
 * key held the emitter's value names, %<node>: a model with more layers, or
 * any graph with one node more in front, compiled every kernel again). */
static const char two_blocks[] =
    "  %x = input \"x\" : f32[4,8]\n  %w1 = param \"w1\" : f32[8,8]\n  %w2 = param \"w2\" : f32[8,8]\n"
    "  %h1 = dot %x, %w1 : f32[4,8]\n  %a1 = tanh %h1 : f32[4,8]\n"
    "  %h2 = dot %a1, %w2 : f32[4,8]\n  %a2 = tanh %h2 : f32[4,8]\n  output \"y\" = %a2\n}\n";

static void test_compile_only_and_kernels_alike(void **state) {
  gc_fixture *f = *state;
  char a[512], b[640], cache[300];
  snprintf(a, sizeof a, "graph @a {\n%s", two_blocks);
  snprintf(b, sizeof b, "graph @b {\n  %%z = input \"z\" : f32[3]\n  %%nz = neg %%z : f32[3]\n"
                        "  output \"nz\" = %%nz\n%s", two_blocks);
  fixture_write_text(f, "a.gcir", a);
  fixture_write_text(f, "b.gcir", b);
  const char *prev = getenv("GC_CACHE_DIR");
  char *saved = prev ? strdup(prev) : NULL;
  fixture_path(f, "cache", cache, sizeof cache);
  setenv("GC_CACHE_DIR", cache, 1);
  int rc = fixture_run(f, "gc-run", "a.gcir --compile-only");
  if (rc != 0) fail_msg("exit %d: %s", rc, f->err);
  assert_non_null(strstr(f->out, "compile_ms="));
  assert_non_null(strstr(f->out, "peak_rss_mb="));
  /* two kernels (a dot with tanh on its tiles, twice), one code */
  if (!strstr(f->out, " kernels=2 compiled=1 cached=0\n")) fail_msg("cold: %s", f->out);
  rc = fixture_run(f, "gc-run", "b.gcir --compile-only");
  if (rc != 0) fail_msg("exit %d: %s", rc, f->err);
  /* the neg is new; the blocks' kernel, at other node numbers, is a hit */
  if (!strstr(f->out, " kernels=3 compiled=1 cached=1\n")) fail_msg("b after a: %s", f->out);
  if (saved) setenv("GC_CACHE_DIR", saved, 1);
  else unsetenv("GC_CACHE_DIR");
  free(saved);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_mlp_f32, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_mlp_f64_grad_and_updates, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_missing_and_mistyped, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_no_params_or_inputs, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_parse_error, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_readme_graph_with_init, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_emit_llvm_and_asm, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_compile_only_and_kernels_alike, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_usage, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_flag_spellings, fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
