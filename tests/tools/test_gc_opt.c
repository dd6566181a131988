/* gc-opt as a program: canonical printing, caret errors, exit codes; the
 * compiler flags on qwen2_tiny's training step: --print-ir-after-all (one
 * dump per pass, in pipeline order, each a program gc-run runs to the loss
 * of the graph as built), --dump-dir, --stats, --time-passes, --emit-dot and
 * an unknown pass. */
#include "tests/tools/tool_fixture.h"
#include "io/file.h"
#include "io/safetensors.h"
#include "passes/pass.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const mlp =
    "# the IR.md example, with free-form names\n"
    "graph @mlp {\n"
    "  %x  = input \"x\" : f32[4,8]\n"
    "  %w  = param \"w\" : f32[8,16]\n"
    "  %b  = param \"b\" : f32[16]\n"
    "  %h  = dot %x, %w {transpose_b=false, label=\"fc\"} : f32[4,16]\n"
    "  %bb = broadcast %b : f32[4,16]\n"
    "  %y  = add %h, %bb : f32[4,16]\n"
    "  %a  = tanh %y : f32[4,16]\n"
    "  %s  = reduce_sum %a {axes=[0,1], keepdims=false} : f32[]\n"
    "  output \"loss\" = %s\n"
    "}\n";

static const char *const mlp_printed =
    "graph @mlp {\n"
    "  %0 = input \"x\" : f32[4,8]\n"
    "  %1 = param \"w\" : f32[8,16]\n"
    "  %2 = param \"b\" : f32[16]\n"
    "  %3 = dot %0, %1 {label=\"fc\"} : f32[4,16]\n"
    "  %4 = broadcast %2 : f32[4,16]\n"
    "  %5 = add %3, %4 : f32[4,16]\n"
    "  %6 = tanh %5 : f32[4,16]\n"
    "  %7 = reduce_sum %6 {axes=[0,1]} : f32[]\n"
    "  output \"loss\" = %7\n"
    "}\n";

static void test_prints_canonical_form(void **state) {
  gc_fixture *f = *state;
  fixture_write_text(f, "mlp.gcir", mlp);
  assert_int_equal(fixture_run(f, "gc-opt", "--passes= mlp.gcir"), 0);
  assert_string_equal(f->out, mlp_printed);
  assert_string_equal(f->err, "");
  /* -o writes the file, stdout stays empty; stdin works as "-" */
  assert_int_equal(fixture_run(f, "gc-opt", "--passes= -o out.gcir mlp.gcir"), 0);
  assert_string_equal(f->out, "");
  char out[4096];
  fixture_read(f, "out.gcir", out, sizeof out);
  assert_string_equal(out, mlp_printed);
  assert_int_equal(fixture_run(f, "gc-opt", "--passes= - < mlp.gcir"), 0);
  assert_string_equal(f->out, mlp_printed);
  /* the printed form is a fixed point */
  assert_int_equal(fixture_run(f, "gc-opt", "--passes= out.gcir"), 0);
  assert_string_equal(f->out, mlp_printed);
}

static void test_malformed_file(void **state) {
  gc_fixture *f = *state;
  fixture_write_text(f, "bad.gcir", "graph @t {\n  %a = input \"a\" : f32[2]\n  %b = add %a, %a : f32[3]\n}\n");
  assert_int_equal(fixture_run(f, "gc-opt", "bad.gcir"), 1);
  assert_string_equal(f->out, "");
  assert_string_equal(f->err,
                      "bad.gcir:3:8: error: add: result type f32[3] does not follow from operands "
                      "(f32[2], f32[2]); expected f32[2]\n"
                      "  %b = add %a, %a : f32[3]\n"
                      "       ^\n");
  /* from stdin the file is called <stdin> */
  assert_int_equal(fixture_run(f, "gc-opt", "- < bad.gcir"), 1);
  assert_non_null(strstr(f->err, "<stdin>:3:8: error: "));
  /* trailing garbage */
  fixture_write_text(f, "bad.gcir", "graph @t {\n}\n}\n");
  assert_int_equal(fixture_run(f, "gc-opt", "bad.gcir"), 1);
  assert_non_null(strstr(f->err, "bad.gcir:3:1: error: unexpected '}' after the graph's closing '}'"));
  /* a file that does not exist */
  assert_int_equal(fixture_run(f, "gc-opt", "missing.gcir"), 1);
  assert_non_null(strstr(f->err, "missing.gcir: cannot open"));
}

/* A raw NUL byte in a name is refused at its line and column, with a caret
 * (it used to cut the name short silently). */
static void test_nul_byte_in_name(void **state) {
  gc_fixture *f = *state;
  static const char text[] = "graph @t {\n  %a = input \"x\0y\" : f32[2]\n  output \"a\" = %a\n}\n";
  fixture_write(f, "nul.gcir", text, sizeof text - 1);
  assert_int_equal(fixture_run(f, "gc-opt", "nul.gcir"), 1);
  assert_string_equal(f->out, "");
  assert_string_equal(f->err,
                      "nul.gcir:2:16: error: NUL byte in string (a name or label cannot hold one)\n"
                      "  %a = input \"x\\x00y\" : f32[2]\n"
                      "               ^\n");
}

static void test_help_and_usage(void **state) {
  gc_fixture *f = *state;
  assert_int_equal(fixture_run(f, "gc-opt", "--help"), 0);
  assert_non_null(strstr(f->out, "usage: gc-opt FILE.gcir [-o OUT]"));
  /* it compiles no kernels: the llvm backend's flags are not offered */
  assert_non_null(strstr(f->out, "--passes"));
  const char *llvm_only[] = {"--no-cache", "--emit-llvm", "--emit-asm"};
  for (int i = 0; i < 3; i++)
    if (strstr(f->out, llvm_only[i])) fail_msg("gc-opt --help lists %s:\n%s", llvm_only[i], f->out);
  assert_int_equal(fixture_run(f, "gc-opt", "--no-cache x.gcir"), 2);
  assert_non_null(strstr(f->err, "unknown option '--no-cache'"));
  assert_int_equal(fixture_run(f, "gc-opt", ""), 2);
  assert_non_null(strstr(f->err, "no input file"));
  assert_int_equal(fixture_run(f, "gc-opt", "--bogus x.gcir"), 2);
  assert_non_null(strstr(f->err, "unknown option '--bogus'"));
  assert_int_equal(fixture_run(f, "gc-opt", "a.gcir b.gcir"), 2);
  assert_int_equal(fixture_run(f, "gc-opt", "a.gcir -o"), 2);
  assert_non_null(strstr(f->err, "-o needs a file name"));
}

/* ---- the compiler flags on qwen2_tiny's training step --------------------- */

#define STEP "model:qwen2_tiny --train --batch 2 --seq 8"

/* The default pipeline's passes, in order (gc_pass_default_pipeline). */
enum { MAX_PASSES = 16 };
static const char *pipeline[MAX_PASSES];
static int n_passes;

static int read_pipeline(void **state) {
  (void)state;
  static char buf[256];
  snprintf(buf, sizeof buf, "%s", gc_pass_default_pipeline());
  n_passes = 0;
  for (char *save = NULL, *t = strtok_r(buf, ",", &save); t && n_passes < MAX_PASSES; t = strtok_r(NULL, ",", &save))
    pipeline[n_passes++] = t;
  return n_passes > 0 ? 0 : -1;
}

/* The file parses and verifies. */
static void parses(const char *what, const char *text, size_t len) {
  gc_diag d;
  gc_graph *g = gc_parse(text, len, &d);
  if (!g || gc_verify(g, &d)) fail_msg("%s does not parse back: %d:%d: %s", what, d.line, d.col, d.msg);
  gc_graph_free(g);
}

/* I.safetensors: token ids and labels in the vocabulary, an attention mask
 * with one padded position per row. */
static void write_inputs(const gc_fixture *f) {
  gc_type t = gc_type_make(GC_I64, 2, (int64_t[]){2, 8});
  gc_tensor *ids = gc_tensor_new(&t), *labels = gc_tensor_new(&t), *mask = gc_tensor_new(&t);
  for (int i = 0; i < 16; i++) {
    ((int64_t *)ids->data)[i] = (i * 37) % 500 + 3;
    ((int64_t *)labels->data)[i] = (i * 53) % 500 + 3;
    ((int64_t *)mask->data)[i] = i % 8 != 0;
  }
  gc_tensor_map m;
  gc_tensor_map_init(&m);
  gc_tensor_map_put(&m, "input_ids", ids);
  gc_tensor_map_put(&m, "labels", labels);
  gc_tensor_map_put(&m, "attention_mask", mask);
  char p[256];
  gc_diag d;
  fixture_path(f, "I.safetensors", p, sizeof p);
  if (gc_safetensors_write(p, &m, &d)) fail_msg("%s", d.msg);
  gc_tensor_map_clear(&m);
}

/* Run `graph` (a .gcir file, as it is: --passes=) on the interpreter with
 * P and I; its results (every output and updated param) into m. */
static void run_dump(gc_fixture *f, const char *graph, gc_tensor_map *m) {
  char args[1024], out[300], p[512];
  snprintf(out, sizeof out, "out-%s.safetensors", strrchr(graph, '/') ? strrchr(graph, '/') + 1 : graph);
  snprintf(args, sizeof args, "%s --passes= --backend interp --params P.safetensors --inputs I.safetensors -o %s",
           graph, out);
  if (fixture_run(f, "gc-run", args)) fail_msg("gc-run %s failed:\n%s", graph, f->err);
  gc_diag d;
  fixture_path(f, out, p, sizeof p);
  gc_tensor_map_init(m);
  if (gc_safetensors_read(p, m, &d)) fail_msg("%s", d.msg);
}

/* got holds what want holds, to f32 rounding. */
static void same_results(const char *graph, const gc_tensor_map *want, const gc_tensor_map *got) {
  assert_int_equal(got->n, want->n);
  for (int i = 0; i < want->n; i++) {
    const gc_tensor *x = want->tensors[i], *y = gc_tensor_map_get(got, want->names[i]);
    if (!y || !gc_type_equal(&x->type, &y->type)) fail_msg("%s: \"%s\" is missing or mistyped", graph, want->names[i]);
    for (int64_t k = 0; k < gc_tensor_numel(x); k++)
      if (!gc_close(gc_tensor_load(x, k), gc_tensor_load(y, k), 1e-5))
        fail_msg("%s: \"%s\"[%lld] = %.9g; the graph as built gives %.9g", graph, want->names[i], (long long)k,
                 gc_tensor_load(y, k), gc_tensor_load(x, k));
  }
}

/* The name of dump i in --dump-dir: 00-input.gcir, 01-after-PASS.gcir, ... */
static void dump_name(int i, char *out, size_t size) {
  if (i == 0) snprintf(out, size, "dumps/00-input.gcir");
  else snprintf(out, size, "dumps/%02d-after-%s.gcir", i, pipeline[i - 1]);
}

/* --print-ir-after-all prints one "# IR after NAME" dump per pass, in
 * pipeline order, on stderr, and nothing else there; --dump-dir writes
 * 00-input.gcir (the graph as built) and NN-after-PASS.gcir, the same texts;
 * the last is what gc-opt printed.  Every dump parses back and gc-run runs
 * it (as it is: --passes=) to the loss, logits and updated params of the
 * graph as built.  (The inputs are a file rather than --random-inputs: for a
 * .gcir file gc-run cannot know the vocabulary, and fills integer inputs
 * with zeros, which masks every key.) */
static void test_dumps(void **state) {
  gc_fixture *f = *state;
  write_inputs(f);
  /* params: the model's init after one step (any values do: every dump gets the same) */
  assert_int_equal(fixture_run(f, "gc-run", STEP " --init 1 --inputs I.safetensors --backend interp -o P.safetensors"), 0);
  assert_int_equal(fixture_run(f, "gc-opt", STEP " --print-ir-after-all --dump-dir dumps -o final.gcir"), 0);
  assert_string_equal(f->out, "");
  size_t len, final_len;
  char *err = fixture_slurp(f, "stderr.txt", &len), *final = fixture_slurp(f, "final.gcir", &final_len);
  assert_true(strncmp(err, "# IR after ", 11) == 0);   /* nothing before the first dump */
  const char *at[MAX_PASSES + 1];
  for (int i = 0; i < n_passes; i++) {
    char head[64];
    snprintf(head, sizeof head, "# IR after %s\n", pipeline[i]);
    at[i] = strstr(i ? at[i - 1] + 1 : err, head);
    if (!at[i]) fail_msg("no \"%.*s\" dump after the previous pass's", (int)strlen(head) - 1, head);
    assert_null(strstr(at[i] + 1, head));   /* once */
  }
  at[n_passes] = err + len;
  int headers = 0;
  for (const char *p = err; (p = strstr(p, "# IR ")); p++) headers++;
  assert_int_equal(headers, n_passes);

  /* the dump directory: exactly the input and one file per pass */
  char dir[256];
  fixture_path(f, "dumps", dir, sizeof dir);
  DIR *dp = opendir(dir);
  assert_non_null(dp);
  int files = 0;
  for (struct dirent *e; (e = readdir(dp));) files += e->d_name[0] != '.';
  closedir(dp);
  assert_int_equal(files, n_passes + 1);

  gc_tensor_map want;
  for (int i = 0; i <= n_passes; i++) {
    char name[128];
    dump_name(i, name, sizeof name);
    size_t n;
    char *text = fixture_slurp(f, name, &n);
    parses(name, text, n);
    if (i > 0) {   /* the printed dump and the file are the same text */
      const char *body = strchr(at[i - 1], '\n') + 1;
      if ((size_t)(at[i] - body) != n || memcmp(body, text, n) != 0)
        fail_msg("the \"# IR after %s\" dump differs from %s", pipeline[i - 1], name);
    }
    if (i == n_passes) {   /* the last dump is what gc-opt printed */
      assert_int_equal(n, final_len);
      assert_memory_equal(text, final, n);
    }
    free(text);
    gc_tensor_map got;
    run_dump(f, name, &got);
    const gc_tensor *loss = gc_tensor_map_get(&got, "loss");
    assert_non_null(loss);
    print_message("%-30s loss %.9g, %d results\n", name, gc_tensor_load(loss, 0), got.n);
    if (i == 0) {
      assert_true(isfinite(gc_tensor_load(loss, 0)));
      assert_non_null(gc_tensor_map_get(&got, "model.norm.weight"));   /* updated params are there too */
      want = got;
    } else {
      same_results(name, &want, &got);
      gc_tensor_map_clear(&got);
    }
  }
  gc_tensor_map_clear(&want);
  free(err);
  free(final);
}

/* --stats: one line "stats: nodes=N kernels=K peak_bytes=B flops=F" on
 * stderr after the pipeline; --time-passes: one line per pass, in order. */
static void test_stats_and_time_passes(void **state) {
  gc_fixture *f = *state;
  assert_int_equal(fixture_run(f, "gc-opt", STEP " --stats --time-passes -o final.gcir"), 0);
  assert_string_equal(f->out, "");
  const char *line = strstr(f->err, "stats: ");
  if (!line) fail_msg("no stats line in:\n%s", f->err);
  assert_true(line == f->err || line[-1] == '\n');
  long long nodes = -1, kernels = -1, peak = -1;
  double flops = -1;
  int used = 0;
  assert_int_equal(sscanf(line, "stats: nodes=%lld kernels=%lld peak_bytes=%lld flops=%lf%n", &nodes, &kernels,
                          &peak, &flops, &used),
                   4);
  assert_true(line[used] == '\n');
  assert_null(strstr(line + 1, "stats: "));
  print_message("qwen2_tiny step (batch 2, seq 8): %.*s\n", used, line);
  assert_true(nodes > 0 && kernels > 0 && kernels < nodes && peak > 0 && flops > 0);
  /* time-passes: one line per pass, in pipeline order */
  const char *p = f->err;
  for (int i = 0; i < n_passes; i++) {
    char head[64];
    snprintf(head, sizeof head, "time-passes: %s ", pipeline[i]);
    const char *q = strstr(p, head);
    if (!q) fail_msg("no \"%s\" line (in order) in:\n%s", head, f->err);
    double ms = -1;
    assert_int_equal(sscanf(q + strlen(head), " %lf ms", &ms), 1);
    assert_true(ms >= 0);
    p = q + 1;
  }
  int lines = 0;
  for (const char *q = f->err; (q = strstr(q, "time-passes: ")); q++) lines++;
  assert_int_equal(lines, n_passes);
}

static void test_unknown_pass(void **state) {
  gc_fixture *f = *state;
  fixture_write_text(f, "mlp.gcir", mlp);
  assert_int_equal(fixture_run(f, "gc-opt", "--passes=simplify,nope mlp.gcir"), 2);
  assert_string_equal(f->out, "");
  assert_non_null(strstr(f->err, "unknown pass 'nope'"));
  /* and names every known pass */
  int n;
  const gc_pass *all = gc_passes(&n);
  char known[512] = "known: ";
  for (int i = 0; i < n; i++)
    snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "", all[i].name);
  if (!strstr(f->err, known)) fail_msg("\"%s\" is not in:\n%s", known, f->err);
  assert_int_equal(fixture_run(f, "gc-run", "--passes=nope mlp.gcir -o o.safetensors"), 2);
  assert_non_null(strstr(f->err, "unknown pass 'nope'"));
  /* an empty name is no pass: one line, exit 2; an empty pipeline is none */
  const char *empty[] = {"--passes=,", "--passes=simplify,,dce", "--passes=simplify,", "--passes=,dce"};
  for (int i = 0; i < 4; i++) {
    char args[128];
    snprintf(args, sizeof args, "%s mlp.gcir", empty[i]);
    assert_int_equal(fixture_run(f, "gc-opt", args), 2);
    assert_string_equal(f->out, "");
    const char *msg = strstr(f->err, "an empty pass name");
    if (!msg || msg > strchr(f->err, '\n')) fail_msg("gc-opt %s:\n%s", args, f->err);
  }
  assert_int_equal(fixture_run(f, "gc-opt", "--passes= mlp.gcir"), 0);
  assert_non_null(strstr(f->out, "graph @"));
}

/* --emit-dot: a Graphviz digraph, each kernel a cluster. */
static void test_emit_dot(void **state) {
  gc_fixture *f = *state;
  fixture_write_text(f, "mlp.gcir", mlp);
  assert_int_equal(fixture_run(f, "gc-opt", "--stats --emit-dot mlp.dot -o out.gcir mlp.gcir"), 0);
  int kernels = -1;
  const char *line = strstr(f->err, "kernels=");
  assert_non_null(line);
  assert_int_equal(sscanf(line, "kernels=%d", &kernels), 1);
  size_t len;
  char *dot = fixture_slurp(f, "mlp.dot", &len);
  assert_true(strncmp(dot, "digraph", 7) == 0);
  int clusters = 0, open = 0, close = 0;
  for (const char *p = dot; (p = strstr(p, "subgraph cluster")); p++) clusters++;
  for (size_t i = 0; i < len; i++) open += dot[i] == '{', close += dot[i] == '}';
  print_message("mlp: %d kernels, %d clusters\n", kernels, clusters);
  assert_true(kernels > 0);
  assert_int_equal(clusters, kernels);
  assert_int_equal(open, close);
  assert_non_null(strstr(dot, "dot"));   /* nodes show their op */
  free(dot);
  /* the model's step too, one layer of it */
  assert_int_equal(fixture_run(f, "gc-opt", STEP " --emit-dot step.dot --dot-filter model.layers.0 -o final.gcir"), 0);
  dot = fixture_slurp(f, "step.dot", &len);
  assert_true(strncmp(dot, "digraph", 7) == 0);
  assert_non_null(strstr(dot, "subgraph cluster"));
  assert_non_null(strstr(dot, "model.layers.0"));
  assert_null(strstr(dot, "model.layers.1."));
  free(dot);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_prints_canonical_form, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_malformed_file, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_nul_byte_in_name, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_help_and_usage, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_dumps, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_stats_and_time_passes, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_unknown_pass, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_emit_dot, fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, read_pipeline, NULL);
}
