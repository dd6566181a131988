/* tests/fuzz/fuzz_ir.c — the libFuzzer harness of the IR text form
 * (docs/fuzzing.md).
 *
 * Whatever the bytes, gc_parse either refuses them with a message placed
 * inside the text (and gc_format_error renders it), or gives a graph that
 *   - gc_verify judges, accepting or refusing it,
 *   - prints, and the print parses again (every dump is a program: kernels,
 *     offsets and into= of planned programs included),
 *   - prints back identically from the re-parsed graph,
 *   - loses nothing in the print: the re-parsed graph has the same structural
 *     hash (ops, types, attributes, operands, bindings) and the same labels,
 *     kernels and plan (offset=, into=) node by node,
 *   - the re-parsed graph verifies the same way, with the same message.
 * A broken promise aborts with both texts, which libFuzzer reports as a
 * crash and keeps the input of; the sanitizers catch the rest. */
#include "ir/ir.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(const char *what, const char *first, const char *second) {
  fprintf(stderr, "fuzz_ir: %s\n", what);
  if (first) fprintf(stderr, "--- first:\n%s\n", first);
  if (second) fprintf(stderr, "--- second:\n%s\n", second);
  abort();
}

/* A refusal has a message and a position inside the text. */
static void check_refusal(const char *text, size_t len, const gc_diag *d) {
  int lines = 1;
  for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
  char shown[4096];
  gc_format_error("<input>", text, len, d, shown, sizeof shown);
  if (!d->msg[0]) fail("refused without a message", shown, NULL);
  if (d->line < 1 || d->line > lines || d->col < 1) fail("refused at a position outside the text", shown, NULL);
}

static bool same_string(const char *a, const char *b) {
  return a == b || (a && b && strcmp(a, b) == 0);
}

/* The graph read back from the print of `g` is `g`. */
static void check_same(const gc_graph *g, const gc_graph *back, const char *printed) {
  if (g->n_nodes != back->n_nodes || gc_hash_graph(g) != gc_hash_graph(back))
    fail("the print loses part of the graph (its hash changes)", printed, NULL);
  for (int i = 0; i < g->n_nodes; i++) {
    const gc_node *a = g->nodes[i], *b = back->nodes[i];
    bool placed = a->planned && !a->into;
    if (!same_string(a->label, b->label) || a->kernel != b->kernel || a->planned != b->planned ||
        !same_string(a->into, b->into) || (placed && a->offset != b->offset)) {
      fprintf(stderr, "fuzz_ir: node %%%d\n", i);
      fail("the print loses a node's label, kernel or place", printed, NULL);
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *text = (const char *)data;
  gc_diag d;
  gc_graph *g = gc_parse(text, size, &d);
  if (!g) {
    check_refusal(text, size, &d);
    return 0;
  }
  gc_diag v1, v2;
  int verified = gc_verify(g, &v1);
  char *p1 = gc_print(g);
  if (!p1) fail("gc_print gave nothing", NULL, NULL);
  gc_graph *g2 = gc_parse(p1, strlen(p1), &d);
  if (!g2) {
    char shown[4096];
    gc_format_error("<print>", p1, strlen(p1), &d, shown, sizeof shown);
    fail("the print does not parse again", shown, p1);
  }
  char *p2 = gc_print(g2);
  if (!p2 || strcmp(p1, p2) != 0) fail("the re-parsed graph prints differently", p1, p2);
  check_same(g, g2, p1);
  int reverified = gc_verify(g2, &v2);
  if (verified != reverified || (verified && strcmp(v1.msg, v2.msg) != 0))
    fail("the re-parsed graph verifies differently", verified ? v1.msg : "accepted",
         reverified ? v2.msg : "accepted");
  free(p1);
  free(p2);
  gc_graph_free(g2);
  gc_graph_free(g);
  return 0;
}
