/* The loop IR's stages called directly (gc_lower_kernel, gc_split_loops,
 * gc_tile_loop_fn), the parser's and the verifier's refusals, and the
 * driver's dumps, names and times. */
#include "tests/testutil.h"
#include "codegen/driver.h"
#include "codegen/split.h"
#include "io/file.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static gc_loop_fn *parse_loop(const char *text) {
  gc_diag d;
  gc_loop_fn *f = gc_loop_parse(text, &d);
  if (!f) fail_msg("%d:%d: %s", d.line, d.col, d.msg);
  if (gc_loop_verify(f, &d)) fail_msg("%s", d.msg);
  return f;
}

static int count_ops(const gc_loop_fn *f, gc_lop op) {
  int n = 0;
  for (int i = 0; i < f->n_insts; i++) n += f->insts[i].op == op;
  return n;
}

/* ---- lower --------------------------------------------------------------------- */

static const char *row_sums =
    "graph @sums {\n"
    "  %x = input \"x\" : f32[4,16]\n"
    "  kernel @k0(%x) -> (%s) {\n"
    "    %e = exp %x : f32[4,16]\n"
    "    %s = reduce_sum %e {axes=[1]} : f32[4]\n"
    "  }\n"
    "  output \"s\" = %s\n"
    "}\n";

/* exp then a sum over rows: buffers x (read) and s (written) named by
 * their nodes; a parallel loop over the 4 rows around a reduction over 16
 * columns carrying one f32. */
static void test_lower_kernel(void **state) {
  (void)state;
  gc_diag d;
  gc_graph *g = gc_parse(row_sums, strlen(row_sums), &d);
  assert_non_null(g);
  int nodes[] = {1, 2};
  gc_kernel_ref k = {g, nodes, 2, "sums", NULL, NULL, NULL};
  int *buffer_nodes = NULL;
  gc_loop_fn *f = gc_lower_kernel(&k, &buffer_nodes, &d);
  if (!f) fail_msg("%s", d.msg);
  assert_int_equal(gc_loop_verify(f, &d), 0);
  assert_string_equal(f->name, "sums");
  assert_int_equal(f->n_buffers, 2);
  for (int b = 0; b < 2; b++) {
    bool out = f->buffers[b].written;
    assert_int_equal(buffer_nodes[b], out ? 2 : 0);
    assert_int_equal(f->buffers[b].elements, out ? 4 : 64);
  }
  assert_int_equal(f->body.n, 1);
  const gc_loop_inst *rows = &f->insts[f->body.insts[0]];
  assert_int_equal(rows->op, GC_L_FOR);
  assert_true(rows->parallel);
  int64_t hi;
  assert_true(gc_loop_is_index_const(f, rows->in[1], &hi));
  assert_int_equal(hi, 4);
  int loops = 0;
  for (int i = 0; i < f->n_insts; i++)
    if (f->insts[i].op == GC_L_FOR && f->insts[i].n_iter == 1) {
      loops++;
      assert_true(gc_loop_is_index_const(f, f->insts[i].in[1], &hi));
      assert_int_equal(hi, 16);
      assert_int_equal(f->insts[f->insts[i].more[0]].dtype, GC_F32);
    }
  assert_int_equal(loops, 1);
  assert_int_equal(count_ops(f, GC_L_STORE), 1);
  free(buffer_nodes);
  gc_loop_free(f);
  gc_graph_free(g);
}

/* ---- split ------------------------------------------------------------------------ */

/* what lower makes of exp(pad(x, 3 left, 5 right, 0.5)) over f32[4,16] */
static const char *padded =
    "loop @k0(%b0: f32[64] \"x\", %b1: f32[96] out \"y\") {\n"
    "  parallel %2: for %3 = 0 to 4 step 1 {\n"
    "    %5: for %6 = 0 to 24 step 1 {\n"
    "      %8 = add %6, -3 : i64\n"
    "      %9 = le 0, %8 : bool\n"
    "      %11 = lt %8, 16 : bool\n"
    "      %13 = where %9, %11, 0:bool : bool\n"
    "      %14 = max %8, 0 : i64\n"
    "      %16 = min %14, 15 : i64\n"
    "      %17 = mul %3, 16 : i64\n"
    "      %19 = add %17, %16 : i64\n"
    "      %20 = load %b0[%19] : f32\n"
    "      %22 = where %13, %20, 0.5:f32 : f32\n"
    "      %23 = exp %22 : f32\n"
    "      %24 = mul %3, 24 : i64\n"
    "      %25 = add %24, %6 : i64\n"
    "      store %b1[%25], %23\n"
    "    }\n"
    "  }\n"
    "}\n";

/* The inner loop cut into [0,3), [3,19), [19,24) with the vector hint; no
 * select nor clamp is left (ranges folded them), one load in the middle. */
static void test_split_loops(void **state) {
  (void)state;
  gc_loop_fn *f = parse_loop(padded);
  assert_int_equal(gc_split_loops(f, 8), 1);
  gc_diag d;
  assert_int_equal(gc_loop_verify(f, &d), 0);
  const gc_loop_block *rows = &f->insts[f->body.insts[0]].body;
  int64_t bounds[3][2] = {{0, 3}, {3, 19}, {19, 24}}, lo, hi;
  int pieces = 0;
  for (int i = 0; i < rows->n; i++) {
    const gc_loop_inst *l = &f->insts[rows->insts[i]];
    if (l->op != GC_L_FOR) continue;
    assert_true(pieces < 3);
    assert_true(gc_loop_is_index_const(f, l->in[0], &lo) && gc_loop_is_index_const(f, l->in[1], &hi));
    assert_int_equal(lo, bounds[pieces][0]);
    assert_int_equal(hi, bounds[pieces][1]);
    assert_int_equal(l->vector, 8);
    pieces++;
  }
  assert_int_equal(pieces, 3);
  int selects = 0, clamps = 0, loads = 0;
  for (int i = 0; i < f->n_insts; i++) {
    const gc_loop_inst *in = &f->insts[i];
    bool reached = false;   /* only what the blocks still hold */
    for (int p = 0; p < rows->n && !reached; p++) {
      const gc_loop_inst *l = &f->insts[rows->insts[p]];
      for (int k = 0; l->op == GC_L_FOR && k < l->body.n; k++) reached |= l->body.insts[k] == i;
    }
    if (!reached) continue;
    selects += in->op == GC_L_OP && in->gop == GC_OP_WHERE;
    clamps += in->op == GC_L_OP && (in->gop == GC_OP_MIN || in->gop == GC_OP_MAX);
    loads += in->op == GC_L_LOAD;
  }
  assert_int_equal(selects, 0);
  assert_int_equal(clamps, 0);
  assert_int_equal(loads, 1);
  gc_loop_free(f);
}

/* ---- tile --------------------------------------------------------------------------- */

static const char *gemm =
    "loop @k0(%b0: f32[131072] \"x\", %b1: f32[131072] \"w\", %b2: f32[16384] out \"y\") {\n"
    "  gemm %b0, %b1 {m=128, n=128, k=1024, batch=0, a=[1024,1,+0], b=[128,1,+0]} epilogue(%1 = batch, %2 = m, %3 = "
    "n, %4 = acc) {\n"
    "    %5 = mul %2, 128 : i64\n"
    "    %6 = add %5, %3 : i64\n"
    "    store %b2[%6], %4\n"
    "  }\n"
    "}\n";

/* The register tile from the vector width (and, with 16 registers, from
 * the padding of C), kc a fixed 256 of k, C blocks whole tiles; and tiling cuts no loop (split is its own stage). */
static void test_tile_loop_fn(void **state) {
  (void)state;
  int widths[2] = {256, 512}, nr[2] = {16, 64};
  for (int w = 0; w < 2; w++) {
    gc_loop_fn *f = parse_loop(gemm);
    gc_tile_target t = {widths[w], 32 << 10, 1 << 20};
    gc_tile_loop_fn(f, &t);
    const gc_loop_gemm *g = f->insts[f->body.insts[0]].gemm;
    assert_int_equal(g->mr, 6);
    assert_int_equal(g->nr, nr[w]);
    assert_int_equal(g->kc, 256);
    assert_true(g->mc >= g->mr && g->mc % g->mr == 0 && g->mc <= 192);
    assert_true(g->nc >= g->nr && g->nc % g->nr == 0);
    /* at least 4 tasks of C blocks */
    assert_true(((g->m + g->mc - 1) / g->mc) * ((g->n + g->nc - 1) / g->nc) >= 4);
    gc_loop_free(f);
  }
  /* with 16 registers (256 bits), 4 rows x 3 vectors where it pads C less:
   * 256 rows (a batch of 4 x 64 tokens) by 3072; 6 x 2 for 128 x 128 above */
  char text[1024];
  snprintf(text, sizeof text,
           "loop @k0(%%b0: f32[196608] \"x\", %%b1: f32[2359296] \"w\", %%b2: f32[786432] out \"y\") {\n"
           "  gemm %%b0, %%b1 {m=256, n=3072, k=768, batch=0, a=[768,1,+0], b=[3072,1,+0]} epilogue(%%1 = batch, "
           "%%2 = m, %%3 = n, %%4 = acc) {\n"
           "    %%5 = mul %%2, 3072 : i64\n"
           "    %%6 = add %%5, %%3 : i64\n"
           "    store %%b2[%%6], %%4\n"
           "  }\n"
           "}\n");
  for (int w = 0; w < 2; w++) {
    gc_loop_fn *f = parse_loop(text);
    gc_tile_loop_fn(f, &(gc_tile_target){widths[w], 32 << 10, 1 << 20});
    const gc_loop_gemm *g = f->insts[f->body.insts[0]].gemm;
    assert_int_equal(g->mr, w ? 6 : 4);
    assert_int_equal(g->nr, w ? 64 : 24);
    assert_true(g->mc % g->mr == 0 && g->nc % g->nr == 0);
    gc_loop_free(f);
  }
  gc_loop_fn *f = parse_loop(padded);
  char *before = gc_loop_print(f);
  gc_tile_loop_fn(f, &(gc_tile_target){512, 32 << 10, 1 << 20});
  char *after = gc_loop_print(f);
  assert_string_equal(after, before);
  free(before), free(after);
  gc_loop_free(f);
}

static void expect_parse_error(const char *text, int line, int col, const char *message);

/* ---- calls in the loop IR ------------------------------------------------------------ */

static void expect_round_trip(const char *text) {
  gc_loop_fn *f = parse_loop(text);
  char *again = gc_loop_print(f);
  assert_string_equal(again, text);
  free(again);
  gc_loop_free(f);
}

/* An {elementwise} call lowered into the loop (call @c0 and its "# call"
 * line), and a hand-written table with a signature, the callee's constants
 * and a buffer call: each prints back as it was read. */
static void test_calls_round_trip(void **state) {
  (void)state;
  static const char *graph =
      "graph @act {\n"
      "  %x = input \"x\" : f32[8]\n"
      "  kernel @k0(%x) -> (%y) {\n"
      "    %e = exp %x : f32[8]\n"
      "    %y = call @erff(%e) {elementwise} : f32[8]\n"
      "  }\n"
      "  output \"y\" = %y\n"
      "}\n";
  gc_diag d;
  gc_graph *g = gc_parse(graph, strlen(graph), &d);
  if (!g) fail_msg("%s", d.msg);
  int nodes[] = {1, 2}, *buffer_nodes = NULL;
  gc_kernel_ref k = {g, nodes, 2, "act", NULL, NULL, NULL};
  gc_loop_fn *f = gc_lower_kernel(&k, &buffer_nodes, &d);
  if (!f) fail_msg("%s", d.msg);
  assert_int_equal(count_ops(f, GC_L_CALL), 1);
  char *text = gc_loop_print(f);
  assert_non_null(strstr(text, "call @c0("));
  assert_non_null(strstr(text, "# call c0: @erff"));
  expect_round_trip(text);
  free(text), free(buffer_nodes), gc_loop_free(f), gc_graph_free(g);
  expect_round_trip("loop @k(%b0: f32[4] \"x\", %b1: f32[4] out \"y\") {\n"
                    "  parallel %2: for %3 = 0 to 4 step 1 {\n"
                    "    %4 = load %b0[%3] : f32\n"
                    "    %5 = call @c0(%4) : f32\n"
                    "    store %b1[%3], %5\n"
                    "  }\n"
                    "}\n"
                    "# error 0: call failed (%lld)\n"
                    "# call c0: @my_act f64(f64,f64,i32) 0.5 3\n"
                    "# call c1: @whole buffers, error 0\n");
  expect_parse_error("loop @k(%b0: f32[4] \"x\", %b1: f32[4] out \"y\") {\n"
                     "  %2 = call @c1() : f32\n}\n# call c0: @f f32()\n",
                     5, 1, "%2 calls c1, which no '# call' line declares");
}

/* ---- the parser's and the verifier's refusals ------------------------------------------ */

static void expect_parse_error(const char *text, int line, int col, const char *message) {
  gc_diag d;
  gc_loop_fn *f = gc_loop_parse(text, &d);
  if (f) fail_msg("parsed:\n%s", text);
  if (!strstr(d.msg, message) || d.line != line || d.col != col)
    fail_msg("got %d:%d \"%s\", want %d:%d \"%s\"", d.line, d.col, d.msg, line, col, message);
}

static void test_parse_errors(void **state) {
  (void)state;
  const char *head = "loop @k(%b0: f32[4] \"x\", %b1: f32[4] out \"y\") {\n";
  char text[1024];
  snprintf(text, sizeof text, "%s  %%2: for %%3 = 0 to 4 step 1 {\n    %%4 = load %%b0[%%3] : f32\n"
                              "    %%5 = exp %%9 : f32\n  }\n}\n", head);
  expect_parse_error(text, 4, 14, "%9 is used before it is defined");
  snprintf(text, sizeof text, "%s  %%2: for %%3 = 0 to 4 step 1 {\n    %%4 = frob %%3 : f32\n  }\n}\n", head);
  expect_parse_error(text, 3, 10, "unknown instruction 'frob'");
  snprintf(text, sizeof text, "%s  %%2: for %%3 = 0 to 4 step 1 {\n    %%3 = load %%b0[0] : f32\n  }\n}\n", head);
  expect_parse_error(text, 3, 5, "%3 is defined twice");
  snprintf(text, sizeof text, "%s  %%2: for %%3 = 0 to 4 step 1 {\n    store %%b7[%%3], 1:f32\n", head);
  expect_parse_error(text, 3, 13, "no buffer %b7");
  snprintf(text, sizeof text, "%s  %%2: for %%3 = 0 to 4 step 1 {\n    %%4 = load %%b0[%%3] : f32\n", head);
  expect_parse_error(text, 4, 1, "a '}' is missing");
  snprintf(text, sizeof text, "%s  %%2: for %%3 = 0 to 4 step 1 {\n    %%4 = load %%b0[%%3] : f16\n  }\n}\n", head);
  expect_parse_error(text, 3, 25, "unknown dtype 'f16'");
}

static void expect_invalid(const char *body, const char *message) {
  char text[1024];
  snprintf(text, sizeof text, "loop @k(%%b0: f32[4] \"x\", %%b1: f32[4] out \"y\") {\n%s}\n", body);
  gc_diag d;
  gc_loop_fn *f = gc_loop_parse(text, &d);
  if (!f) fail_msg("%d:%d: %s", d.line, d.col, d.msg);
  if (gc_loop_verify(f, &d) == 0) fail_msg("verified:\n%s", text);
  if (!strstr(d.msg, message)) fail_msg("got \"%s\", want \"%s\"", d.msg, message);
  gc_loop_free(f);
}

static void test_verify_refuses(void **state) {
  (void)state;
  /* a value of a loop's body used after the loop */
  expect_invalid("  %2: for %3 = 0 to 4 step 1 {\n    %4 = load %b0[%3] : f32\n  }\n  store %b1[0], %4\n",
                 "(store): operand %4 is not defined before it in an enclosing block");
  /* a store into the buffer the kernel only reads */
  expect_invalid("  %2: for %3 = 0 to 4 step 1 {\n    store %b0[%3], 1:f32\n  }\n", "which the kernel only reads");
  /* a store of the wrong dtype */
  expect_invalid("  %2: for %3 = 0 to 4 step 1 {\n    store %b1[%3], %3\n  }\n", "stores a i64 into %b1 of f32");
  /* a reduction whose body yields nothing */
  expect_invalid("  %2: for %3 = 0 to 4 step 1 iter(%4 = 0:f32) {\n    %5 = load %b0[%3] : f32\n  }\n",
                 "ends without a yield");
  /* ... or yields an index for an f32 */
  expect_invalid("  %2: for %3 = 0 to 4 step 1 iter(%4 = 0:f32) {\n    yield %3\n  }\n",
                 "yields a i64 for iter value 0 of f32");
  /* a step that never ends */
  expect_invalid("  %2: for %3 = 0 to 4 step 0 {\n  }\n", "step 0 is not positive");
  /* a check naming an error the function has none of */
  expect_invalid("  %2: for %3 = 0 to 4 step 1 {\n    check 0 <= %3 < 4 else error 0 (%3)\n  }\n", "no error 0");
}

/* ---- the driver ---------------------------------------------------------------------- */

static void test_stage_names(void **state) {
  (void)state;
  int n;
  const gc_stage *s = gc_stages(&n);
  assert_int_equal(n, 3);
  assert_string_equal(s[0].name, "lower");
  assert_string_equal(s[1].name, "split");
  assert_string_equal(s[2].name, "tile");
  gc_diag d;
  assert_int_equal(gc_stage_names_check("cse, tile,plan,lower", &d), 0);
  assert_int_equal(gc_stage_names_check("fuse,nope", &d), -1);
  assert_non_null(strstr(d.msg, "unknown pass or stage 'nope' (passes: simplify, cse"));
  assert_non_null(strstr(d.msg, "; stages: lower, split, tile)"));
  assert_int_equal(gc_stage_names_check("lower,,tile", &d), -1);
  assert_string_equal(gc_stage_listed("cse,split,tile"), "split");
  assert_null(gc_stage_listed("cse,fuse"));
  assert_null(gc_stage_listed(NULL));
}

/* --print-ir-before=split, --print-ir-after=lower,tile, --dump-dir and
 * --time-passes on one kernel: the headings name the stage and the kernel;
 * the directory holds the IR after each stage; one time line per stage. */
static void test_driver_dumps(void **state) {
  (void)state;
  gc_diag d;
  gc_graph *g = gc_parse(row_sums, strlen(row_sums), &d);
  assert_non_null(g);
  char dir[] = "/tmp/gc_codegen_dumpsXXXXXX";
  assert_non_null(mkdtemp(dir));
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  gc_pass_options po;
  gc_pass_options_init(&po);
  po.print_before = "split";
  po.print_after = "lower,tile";
  po.dump_dir = dir;
  po.time_passes = true;
  po.out = out;
  int nodes[] = {1, 2};
  gc_codegen_kernel k = {.ref = {g, nodes, 2, "k7", NULL, NULL, NULL}, .target = {256, 32 << 10, 1 << 20},
                         .display = 7, .label = "sums"};
  gc_codegen_times times = {{0}};
  assert_int_equal(gc_codegen_run(&k, &po, &times, &d), 0);
  gc_codegen_report(&times, &po);
  fclose(out);
  const char *after_lower = strstr(text, "# IR after lower: k7 sums\nloop @k7(");
  const char *before_split = strstr(text, "# IR before split: k7 sums\nloop @k7(");
  const char *after_tile = strstr(text, "# IR after tile: k7 sums\nloop @k7(");
  assert_true(after_lower == text && before_split > after_lower && after_tile > before_split);
  assert_null(strstr(text, "# IR after split"));
  int lines = 0;
  for (const char *p = text; (p = strstr(p, "time-passes: ")); p++) lines++;
  assert_int_equal(lines, 3);
  assert_non_null(strstr(text, "time-passes: split "));
  char *printed = gc_loop_print(k.fn);
  const char *files[3] = {"k7-1-after-lower.loop", "k7-2-after-split.loop", "k7-3-after-tile.loop"};
  for (int i = 0; i < 3; i++) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    size_t n;
    char *file = gc_read_file(path, &n, &d);
    if (!file) fail_msg("%s", d.msg);
    if (i == 2) assert_string_equal(file, printed);   /* the last is the function as it ends */
    else assert_non_null(strstr(file, "loop @k7("));
    free(file);
    unlink(path);
  }
  rmdir(dir);
  free(printed), free(text);
  gc_loop_free(k.fn);
  free(k.buffer_nodes);
  gc_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lower_kernel),   cmocka_unit_test(test_split_loops),
      cmocka_unit_test(test_tile_loop_fn),   cmocka_unit_test(test_parse_errors),
      cmocka_unit_test(test_verify_refuses), cmocka_unit_test(test_stage_names),
      cmocka_unit_test(test_driver_dumps),   cmocka_unit_test(test_calls_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
