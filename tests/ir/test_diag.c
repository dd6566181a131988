/* gc_format_error writes text a terminal shows as it is: a byte that is not
 * printable (a binary file, an escape sequence in a label) appears as \xHH
 * in the source line and in the message, with the caret still under the
 * column; a huge line is shown as a window around the caret (it used to
 * print all 30,000 characters and a caret line of 27,000 spaces). */
#include "tests/testutil.h"
#include "ir/ir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* No byte of out would drive a terminal: control bytes other than \n and
 * \t, DEL and bytes >= 0x80 (the texts here have no UTF-8 to show). */
static void plain_ascii(const char *out) {
  for (const unsigned char *c = (const unsigned char *)out; *c; c++)
    if ((*c < 0x20 && *c != '\n' && *c != '\t') || *c >= 0x7f) fail_msg("raw byte 0x%02x in:\n%s", *c, out);
}

/* The error of parsing (and verifying) `text`, formatted. */
static void format_error_of(const char *text, size_t len, char *out, size_t size) {
  gc_diag d = {0};
  gc_graph *g = gc_parse(text, len, &d);
  if (g && gc_verify(g, &d) == 0) fail_msg("no error in %.60s", text);
  gc_graph_free(g);
  gc_format_error("f.gcir", text, len, &d, out, size);
}

static void test_binary_bytes_are_escaped(void **state) {
  (void)state;
  static const char text[] = "graph @t {\n  %a\x1b[2J = input \"\xff\x9b\x7f\" : f32[2]\n}\n";
  char out[1024];
  format_error_of(text, sizeof text - 1, out, sizeof out);
  plain_ascii(out);
  assert_string_equal(out, "f.gcir:2:5: error: unexpected byte 0x1b\n"
                           "  %a\\x1b[2J = input \"\\xff\\x9b\\x7f\" : f32[2]\n"
                           "    ^\n");
  /* a printable UTF-8 character stays as it is, one cell wide */
  static const char utf8[] = "graph @t {\n  %a = input \"\xc3\xa9\" : f32[2] ?\n}\n";
  format_error_of(utf8, sizeof utf8 - 1, out, sizeof out);
  assert_string_equal(out, "f.gcir:2:28: error: unexpected character '?'\n"
                           "  %a = input \"\xc3\xa9\" : f32[2] ?\n"
                           "                          ^\n");
  /* an escape sequence in a label reaches the message of the verifier */
  static const char label[] = "graph @t {\n  %a = input \"a\" : f32[2]\n"
                              "  %b = neg %a {label=\"\\x1b[31mred\"} : f32[2]\n  output \"b\" = %b\n}\n";
  gc_diag d = {0};
  gc_graph *g = gc_parse(label, sizeof label - 1, &d);
  assert_non_null(g);
  g->nodes[1]->type.dims[0] = 3;
  assert_int_equal(gc_verify(g, &d), -1);
  gc_graph_free(g);
  gc_format_error("f.gcir", label, sizeof label - 1, &d, out, sizeof out);
  plain_ascii(out);
  assert_non_null(strstr(out, "label \"\\x1b[31mred\""));
}

/* The window of a 30,000-character line around `word`, where the error
 * is: at most 100 characters besides the "..." of each end cut, and the
 * caret under the word. */
static void check_window(const char *out, const char *word, bool cut_left, bool cut_right) {
  plain_ascii(out);
  const char *line = strchr(out, '\n') + 1, *caret = strchr(line, '\n') + 1;
  size_t line_len = (size_t)(caret - 1 - line), caret_len = strcspn(caret, "\n");
  assert_true(line_len <= 106);
  assert_true(caret_len <= 104);
  assert_true(caret[caret_len - 1] == '^');
  assert_int_equal(strncmp(line, "...", 3) == 0, cut_left);
  assert_int_equal(line_len >= 3 && strncmp(line + line_len - 3, "...", 3) == 0, cut_right);
  assert_int_equal(strncmp(line + caret_len - 1, word, strlen(word)), 0);
}

static void test_huge_line_shows_a_window(void **state) {
  (void)state;
  size_t cap = 40000;
  char *text = malloc(cap), *out = malloc(cap);
  assert_non_null(text);
  assert_non_null(out);
  /* the error near the end of the line */
  int n = snprintf(text, cap, "graph @t {\n  %%a = input \"a\" {label=\"%0*d\"} : f32[2] junk\n}\n", 29950, 0);
  format_error_of(text, (size_t)n, out, cap);
  check_window(out, "junk", true, false);
  /* near the start */
  n = snprintf(text, cap, "graph @t {\n  %%a = input \"a\" : f32[2] junk {label=\"%0*d\"}\n}\n", 29950, 0);
  format_error_of(text, (size_t)n, out, cap);
  check_window(out, "junk", false, true);
  /* in the middle */
  n = snprintf(text, cap, "graph @t {\n  %%a = input \"a\" {label=\"%0*d\"} : f32[2] junk \"%0*d\"\n}\n", 15000, 0, 15000, 0);
  format_error_of(text, (size_t)n, out, cap);
  check_window(out, "junk", true, true);
  free(text), free(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_binary_bytes_are_escaped),
      cmocka_unit_test(test_huge_line_shows_a_window),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
