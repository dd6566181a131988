/* The verifier points at the source: nodes keep the line and column of their
 * statement, and a verifier error about a node of a parsed graph renders as
 * FILE:LINE:COL with the line and a caret, as parse errors do. */
#include "tests/testutil.h"
#include "ir/ir.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const text =
    "graph @v {\n"
    "  %a = input \"a\" : f32[2]\n"
    "  %b = add %a, %a {label=\"sum\"} : f32[2]\n"
    "\t%c = neg %b : f32[2]\n"
    "  output \"c\" = %c\n"
    "}\n";

static gc_graph *parse_or_fail(const char *t) {
  gc_diag d;
  gc_graph *g = gc_parse(t, strlen(t), &d);
  if (!g) fail_msg("%d:%d: %s", d.line, d.col, d.msg);
  return g;
}

static void test_nodes_keep_positions(void **state) {
  (void)state;
  gc_graph *g = parse_or_fail(text);
  int want[3][2] = {{2, 3}, {3, 3}, {4, 2}};
  for (int i = 0; i < 3; i++) {
    assert_int_equal(g->nodes[i]->line, want[i][0]);
    assert_int_equal(g->nodes[i]->col, want[i][1]);
  }
  /* a node built in C has no position */
  int64_t two = 2;
  gc_type t = gc_type_make(GC_F32, 1, &two);
  int id = gc_graph_add(g, GC_OP_EXP, (int[]){2}, 1, NULL, &t, NULL);
  assert_int_equal(g->nodes[id]->line, 0);
  assert_int_equal(g->nodes[id]->col, 0);
  gc_graph_free(g);
}

/* A type error on line 3 (the type no longer follows from the operands). */
static void test_type_error_points_at_line_3(void **state) {
  (void)state;
  gc_graph *g = parse_or_fail(text);
  g->nodes[1]->type.dims[0] = 3;
  gc_diag d = {.line = 99, .col = 99};
  assert_int_equal(gc_verify(g, &d), -1);
  assert_int_equal(d.line, 3);
  assert_int_equal(d.col, 3);
  char out[1024];
  gc_format_error("v.gcir", text, strlen(text), &d, out, sizeof out);
  assert_string_equal(out,
                      "v.gcir:3:3: error: node %1 (add, label \"sum\"): add: result type f32[3] does not "
                      "follow from operands (f32[2], f32[2]); expected f32[2]\n"
                      "  %b = add %a, %a {label=\"sum\"} : f32[2]\n"
                      "  ^\n");
  g->nodes[1]->type.dims[0] = 2;

  /* on a line indented with a tab, the caret lines up under it */
  g->nodes[2]->in[0] = 2;
  assert_int_equal(gc_verify(g, &d), -1);
  gc_format_error("v.gcir", text, strlen(text), &d, out, sizeof out);
  assert_string_equal(out,
                      "v.gcir:4:2: error: node %2 (neg): operand 0 is not defined before use\n"
                      "\t%c = neg %b : f32[2]\n"
                      "\t^\n");
  g->nodes[2]->in[0] = 1;
  assert_int_equal(gc_verify(g, &d), 0);
  gc_graph_free(g);
}

/* Errors about outputs and updates, and about nodes built in C, have no
 * position and render as "FILE: error: ...". */
static void test_errors_without_position(void **state) {
  (void)state;
  gc_graph *g = parse_or_fail(text);
  g->outputs[0].node = 7;
  gc_diag d = {.line = 99, .col = 99};
  assert_int_equal(gc_verify(g, &d), -1);
  assert_int_equal(d.line, 0);
  char out[512];
  gc_format_error("v.gcir", text, strlen(text), &d, out, sizeof out);
  assert_string_equal(out, "v.gcir: error: output \"c\" refers to no value\n");
  gc_graph_free(g);

  gc_graph *c = gc_graph_new("c");
  gc_type t = gc_type_make(GC_F32, 0, NULL);
  gc_graph_add(c, GC_OP_PARAM, NULL, 0, &(gc_attrs){.name = {.name = "p"}}, &t, NULL);
  gc_graph_add(c, GC_OP_NEG, (int[]){0}, 1, NULL, NULL, NULL);
  c->nodes[1]->type.dtype = GC_I32;
  d.line = d.col = 99;
  assert_int_equal(gc_verify(c, &d), -1);
  assert_int_equal(d.line, 0);
  assert_int_equal(d.col, 0);
  assert_non_null(strstr(d.msg, "node %1 (neg): neg: result type i32[] does not follow"));
  gc_graph_free(c);
}

/* Planned offsets: values alive at the same time must not share bytes;
 * an elementwise kernel may write its result over an operand dying there,
 * when it says so (over=). */
static void test_plan_overlaps(void **state) {
  (void)state;
  const char *ok =
      "graph @p {\n"
      "  %a = input \"a\" : f32[4]\n"
      "  kernel @k0(%a) -> (%b) {\n"
      "    %b = exp %a {offset=0} : f32[4]\n"
      "  }\n"
      "  kernel @k1(%b) -> (%c) {\n"
      "    %c = neg %b {offset=0, over=%b} : f32[4]\n"
      "  }\n"
      "  kernel @k2(%c, %a) -> (%d) {\n"
      "    %d = add %c, %a {offset=64} : f32[4]\n"
      "  }\n"
      "  output \"d\" = %d\n"
      "}\n";
  gc_graph *g = parse_or_fail(ok);
  gc_diag d;
  assert_int_equal(gc_verify(g, &d), 0);
  /* %d over %c, which it reads: not elementwise in place once %c lives on */
  g->nodes[3]->offset = 8;
  assert_int_equal(gc_verify(g, &d), -1);
  assert_non_null(strstr(d.msg, "overlap those of %2"));
  assert_int_equal(d.line, 10);
  gc_graph_free(g);
}

/* tests/ir/files/plans/: planned programs, each headed by what the
 * verifier (or the parser) says of it: "# verify: ok" or "# verify: error
 * LINE:COL MESSAGE" (MESSAGE a part of d.msg).  All but offset_overlap
 * were accepted before the verifier judged every place (issue 16), and
 * computed wrongly or were refused by llvm only. */
static void check_plan_file(const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/tests/ir/files/plans/%s", GC_SOURCE_DIR, name);
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s", path);
  static char text[1 << 16];
  size_t len = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[len] = 0;
  int line = 0, col = 0, at = 0;
  bool ok = strncmp(text, "# verify: ok\n", 13) == 0;
  if (!ok && sscanf(text, "# verify: error %d:%d %n", &line, &col, &at) != 2)
    fail_msg("%s: the first line must be '# verify: ok' or '# verify: error LINE:COL MESSAGE'", name);
  char want[512] = "";
  if (!ok) snprintf(want, sizeof want, "%.*s", (int)strcspn(text + at, "\n"), text + at);
  gc_diag d = {0};
  gc_graph *g = gc_parse(text, len, &d);
  int rc = g ? gc_verify(g, &d) : -1;
  if (ok && rc) fail_msg("%s: refused: %d:%d: %s", name, d.line, d.col, d.msg);
  if (!ok && rc == 0) fail_msg("%s: accepted, but it should be refused with %s", name, want);
  if (!ok && (d.line != line || d.col != col || !strstr(d.msg, want)))
    fail_msg("%s: refused with %d:%d: %s\nbut the file expects %d:%d: %s", name, d.line, d.col, d.msg, line, col, want);
  gc_graph_free(g);
}

static void test_plan_files(void **state) {
  (void)state;
  char dir[512];
  snprintf(dir, sizeof dir, "%s/tests/ir/files/plans", GC_SOURCE_DIR);
  DIR *dp = opendir(dir);
  if (!dp) fail_msg("cannot open %s", dir);
  int n = 0;
  for (struct dirent *e; (e = readdir(dp));) {
    size_t k = strlen(e->d_name);
    if (k < 5 || strcmp(e->d_name + k - 5, ".gcir") != 0) continue;
    check_plan_file(e->d_name);
    n++;
  }
  closedir(dp);
  print_message("%d planned programs judged as their files expect\n", n);
  assert_true(n >= 13);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nodes_keep_positions),
      cmocka_unit_test(test_type_error_points_at_line_3),
      cmocka_unit_test(test_errors_without_position),
      cmocka_unit_test(test_plan_overlaps),
      cmocka_unit_test(test_plan_files),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
