/* Loop-in/loop-out tests of the loop IR's stages, as tests/passes/cases/
 * does for the graph passes: each tests/codegen/cases/NAME.loop holds the
 * stage to run, its input and the expected printed result:
 *
 *   # stage: split
 *   loop @k0(...) {          (lower's input is a graph with one kernel)
 *     ...
 *   }
 *   # expect:
 *   # loop @k0(...) {
 *   # ...
 *
 * The stage runs alone (its entry in codegen/stages.def) for a fixed host:
 * 512-bit vectors, 48 KiB L1, 2 MiB L2.  The result must print as expected,
 * pass gc_loop_verify, and read back (print, parse, print the same); a loop
 * input must read back too.  GC_UPDATE_EXPECT=1 rewrites the expectations
 * (then read the diff). */
#include "tests/case_file.h"
#include "codegen/driver.h"
#include "io/file.h"
#include "base/strbuf.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#ifndef GC_SOURCE_DIR
#define GC_SOURCE_DIR "."
#endif

static const gc_tile_target host = {512, 48 << 10, 2 << 20};

/* The input: from the first line not a comment up to "# expect:". */
static char *input_of(const char *text) {
  const char *p = text;
  while (*p == '#') p += strcspn(p, "\n") + (p[strcspn(p, "\n")] ? 1 : 0);
  const char *end = strstr(p, "# expect:\n");
  return strndup(p, end ? (size_t)(end - p) : strlen(p));
}

/* print(parse(text)) is text; the parsed function verifies. */
static gc_loop_fn *reads_back(const char *name, const char *what, const char *text) {
  gc_diag d;
  gc_loop_fn *f = gc_loop_parse(text, &d);
  if (!f) fail_msg("%s: the %s does not parse: %s\n%s", name, what, d.msg, text);
  if (gc_loop_verify(f, &d)) fail_msg("%s: the %s does not verify: %s", name, what, d.msg);
  char *again = gc_loop_print(f);
  if (strcmp(again, text) != 0) fail_msg("%s: the %s prints back as\n%s\nnot\n%s", name, what, again, text);
  free(again);
  return f;
}

/* Lower's input: a graph with one kernel region. */
static void lowered(const char *name, const char *text, gc_codegen_kernel *k, gc_graph **g) {
  gc_diag d;
  if (!(*g = gc_parse(text, strlen(text), &d)) || gc_verify(*g, &d)) fail_msg("%s:%d:%d: %s", name, d.line, d.col, d.msg);
  int *nodes = malloc(sizeof *nodes * (size_t)(*g)->n_nodes), n = 0, kernel = 0;
  for (int i = 0; i < (*g)->n_nodes; i++) {
    int kn = (*g)->nodes[i]->kernel;
    if (!kn) continue;
    if (kernel && kn != kernel) fail_msg("%s: lower's input has more than one kernel", name);
    kernel = kn;
    nodes[n++] = i;
  }
  if (!n) fail_msg("%s: lower's input has no kernel region", name);
  k->ref = (gc_kernel_ref){*g, nodes, n, "k0", NULL, NULL, NULL};
}

static int checked, failed;

static void run_case(const char *dir, const char *name) {
  gc_diag d;
  size_t len;
  char *text = gc_case_read(dir, name, &len);
  char *stage_name = gc_case_header(text, "stage"), *input = input_of(text);
  if (!stage_name) fail_msg("%s: no '# stage:' line", name);
  const gc_stage *stage = gc_stage_find(stage_name);
  if (!stage) fail_msg("%s: no stage '%s'", name, stage_name);
  gc_codegen_kernel k = {.target = host};
  gc_graph *g = NULL;
  if (strcmp(stage_name, "lower") == 0) lowered(name, input, &k, &g);
  else k.fn = reads_back(name, "input", input);
  if (stage->run(&k, &d)) fail_msg("%s: stage %s: %s", name, stage_name, d.msg);
  if (gc_loop_verify(k.fn, &d)) fail_msg("%s: stage %s broke the loop IR: %s", name, stage_name, d.msg);
  char *printed = gc_loop_print(k.fn), *want = gc_case_expectation(text);
  if (getenv("GC_UPDATE_EXPECT")) gc_case_update_expectation(dir, name, text, printed);
  else if (strcmp(printed, want) != 0) {   /* reported, and the other cases still checked */
    print_error("%s: after %s the loop IR prints as\n%s\nbut the case expects\n%s\n", name, stage_name, printed, want);
    failed++;
  }
  gc_loop_free(reads_back(name, "result", printed));
  checked++;
  gc_loop_free(k.fn);
  free(k.buffer_nodes);
  free((int *)k.ref.nodes);
  gc_graph_free(g);
  free(printed), free(want), free(stage_name), free(input), free(text);
}

static void test_cases(void **state) {
  (void)state;
  const char *dir = GC_SOURCE_DIR "/tests/codegen/cases";
  char *names[1024];
  int n = gc_case_files(dir, ".loop", names, 1024);
  /* every stage has a case */
  int n_stages;
  const gc_stage *stages = gc_stages(&n_stages);
  for (int s = 0; s < n_stages; s++) {
    bool found = false;
    for (int i = 0; i < n && !found; i++)
      found = strncmp(names[i], stages[s].name, strlen(stages[s].name)) == 0 && names[i][strlen(stages[s].name)] == '_';
    if (!found) fail_msg("no case tests/codegen/cases/%s_*.loop", stages[s].name);
  }
  for (int i = 0; i < n; i++) {
    run_case(dir, names[i]);
    free(names[i]);
  }
  print_message("%d stage cases checked, %d printed other than expected\n", checked, failed);
  assert_true(checked > 0);
  assert_int_equal(failed, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cases),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
