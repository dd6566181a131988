/* The text-form parser: every error class with its exact position, the
 * caret rendering, and robustness against garbage and truncation. */
#include "tests/testutil.h"
#include "ir/ir.h"

#include <stdlib.h>
#include <string.h>

/* The text in a buffer of exactly its length (no NUL), so that the sanitizer
 * build catches any read past `len`. */
static gc_graph *parse_exact(const char *text, size_t len, gc_diag *d) {
  char *buf = malloc(len ? len : 1);
  memcpy(buf, text, len);
  gc_graph *g = gc_parse(buf, len, d);
  free(buf);
  return g;
}

static char *read_all_ops(size_t *len) {
  const char *path = GC_SOURCE_DIR "/tests/ir/files/all_ops.gcir";
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s", path);
  static char buf[1 << 16];
  *len = fread(buf, 1, sizeof buf, f);
  fclose(f);
  char *out = malloc(*len);
  memcpy(out, buf, *len);
  return out;
}

typedef struct {
  const char *text;
  int line, col;
  const char *word; /* must appear in the message */
} error_case;

#define HDR "graph @t {\n  %a = input \"a\" : f32[2]\n"

static const error_case cases[] = {
    /* unknown op */
    {HDR "  %b = frob %a : f32[2]\n}\n", 3, 8, "unknown op 'frob'"},
    /* use before definition */
    {HDR "  %b = neg %c : f32[2]\n}\n", 3, 12, "undefined value %c"},
    {HDR "  output \"o\" = %zz\n}\n", 3, 16, "undefined value %zz"},
    /* redefinition */
    {HDR "  %a = neg %a : f32[2]\n}\n", 3, 3, "redefinition of %a"},
    /* type that does not follow: op, operand types, expected type */
    {HDR "  %b = add %a, %a : f32[3]\n}\n", 3, 8, "add: result type f32[3] does not follow from operands (f32[2], f32[2]); expected f32[2]"},
    {HDR "  %b = input \"b\" : f32[3]\n  %c = add %a, %b : f32[2]\n}\n", 4, 8, "f32[2] and f32[3]"},
    /* bad attributes */
    {HDR "  %b = reduce_sum %a {axes=[0], bogus=1} : f32[]\n}\n", 3, 33, "unknown attribute 'bogus'"},
    {HDR "  %b = reduce_sum %a {axes=[0], keepdims=1} : f32[1]\n}\n", 3, 42, "true or false"},
    {HDR "  %b = reduce_sum %a {axes=0} : f32[]\n}\n", 3, 28, "list"},
    {HDR "  %b = iota {axis=0.5} : i32[2]\n}\n", 3, 19, "integer"},
    {HDR "  %b = reduce_sum %a : f32[]\n}\n", 3, 8, "missing required attribute 'axes'"},
    {HDR "  %b = reduce_sum %a {axes=[0], axes=[0]} : f32[]\n}\n", 3, 33, "duplicate attribute 'axes'"},
    {HDR "  %b = neg %a {label=\"x\", label=\"y\"} : f32[2]\n}\n", 3, 27, "duplicate attribute 'label'"},
    {HDR "  %b = neg %a {label=3} : f32[2]\n}\n", 3, 22, "string"},
    {HDR "  %b = const 1 {value=2.0} : f32[2]\n}\n", 3, 17, "unknown attribute 'value'"},
    {HDR "  %b = iota {axis=99999999999999999999} : i32[2]\n}\n", 3, 19, "out of range"},
    {HDR "  %b = transpose %a {perm=[0,0,0,0,0,0,0,0,0]} : f32[2]\n}\n", 3, 44, "more than 8"},
    /* bad dtype */
    {HDR "  %b = neg %a : f16[2]\n}\n", 3, 17, "unknown dtype 'f16'"},
    /* bad number */
    {HDR "  %b = const 1.2.3 : f32[]\n}\n", 3, 14, "bad number '1.2.3'"},
    {HDR "  %b = const 12abc : f32[]\n}\n", 3, 14, "bad number"},
    {HDR "  %b = const 1e999 : f32[]\n}\n", 3, 14, "bad number"},
    {HDR "  %b = const 0.5 : i32[]\n}\n", 3, 14, "cannot hold"},
    {HDR "  %b = const 2 : bool[]\n}\n", 3, 14, "cannot hold"},
    /* strings */
    {HDR "  %b = input \"abc : f32[2]\n}\n", 3, 14, "unterminated string"},
    {HDR "  %b = input \"a\\qb\" : f32[2]\n}\n", 3, 16, "escape"},
    {HDR "  %b = input \"a\" : f32[2]\n}\n", 3, 14, "already used"},
    {HDR "  %b = input \"\" : f32[2]\n}\n", 3, 8, "non-empty name"},
    /* missing ':' or type */
    {HDR "  %b = neg %a f32[2]\n}\n", 3, 15, "expected ':'"},
    {HDR "  %b = neg %a :\n}\n", 4, 1, "expected a type"},
    {HDR "  %b = neg %a : f32\n}\n", 4, 1, "expected '['"},
    {HDR "  %b = neg %a : f32[2\n}\n", 4, 1, "expected ',' or ']'"},
    {HDR "  %b = neg %a : f32[-2]\n}\n", 3, 21, "negative dimension"},
    /* trailing garbage, missing '}' */
    {HDR "}\nextra\n", 4, 1, "after the graph's closing '}'"},
    {HDR "}\n}", 4, 1, "after the graph's closing '}'"},
    {HDR, 2, 26, "expected '}'"},
    {HDR "  %b = neg %a {label=\"x\" : f32[2]\n}\n", 3, 26, "expected ',' or '}'"},
    /* outputs and updates */
    {HDR "  output \"o\" = %a\n  output \"o\" = %a\n}\n", 4, 10, "output \"o\" is defined twice"},
    {HDR "  update \"q\" = %a\n}\n", 3, 10, "no param"},
    {HDR "  %p = param \"p\" : f32[3]\n  update \"p\" = %a\n}\n", 4, 10, "differs"},
    {HDR "  output o = %a\n}\n", 3, 10, "string"},
    /* operand count */
    {HDR "  %b = add %a : f32[2]\n}\n", 3, 8, "add takes 2 operands, got 1"},
    {HDR "  %b = concat %a {axis=0} : f32[2]\n}\n", 3, 8, "at least 2"},
    {HDR "  %b = neg %a, : f32[2]\n}\n", 3, 16, "expected an operand"},
    /* rank and element count */
    {HDR "  %b = input \"b\" : f32[1,1,1,1,1,1,1,1,1]\n}\n", 3, 40, "rank exceeds 8"},
    {HDR "  %b = input \"b\" : f32[4294967296,4294967296]\n}\n", 3, 20, "too many elements"},
    /* call: @name(operands), the callee's own attributes numbers, a flag bare */
    {HDR "  %b = call erff(%a) : f32[2]\n}\n", 3, 13, "call needs the callee's name"},
    {HDR "  %b = call @erff %a : f32[2]\n}\n", 3, 19, "expected '(' after the callee's name"},
    {HDR "  %b = call @erff(%a : f32[2]\n}\n", 3, 22, "expected ')' after the call's operands"},
    {HDR "  %b = call @f(%a) {alpha=\"x\"} : f32[2]\n}\n", 3, 27, "attribute 'alpha' expects a number"},
    {HDR "  %b = call @f(%a) {k=1, k=2} : f32[2]\n}\n", 3, 26, "duplicate attribute 'k'"},
    {HDR "  %b = call @f(%a) {elementwise, elementwise} : f32[2]\n}\n", 3, 34, "duplicate attribute 'elementwise'"},
    {HDR "  %b = call @f(%a) {elementwise} : f32[3]\n}\n", 3, 8, "operand 0 is f32[2], the result f32[3]"},
    {HDR "  %b = neg %a {keepdims} : f32[2]\n}\n", 3, 16, "unknown attribute 'keepdims' for neg"},
    /* structure and lexing */
    {"", 1, 1, "expected 'graph"},
    {"graph t {}", 1, 7, "'@NAME'"},
    {"graph @t }", 1, 10, "expected '{'"},
    {HDR "  %b = neg $a : f32[2]\n}\n", 3, 12, "unexpected character '$'"},
    {HDR "  %b = neg %a : f32[2] junk\n}\n", 3, 24, "expected a statement"},
    {HDR "  %b = neg %a : f32[2] %c\n}\n", 4, 1, "expected '='"},
    {HDR "  neg %a\n}\n", 3, 3, "expected a statement"},
    {HDR "  %b = % : f32[2]\n}\n", 3, 8, "name after '%'"},
    /* kernel headers: exactly the values read inside / read after or bound */
    {HDR "  kernel @k(%a) -> (%b) {\n    %b = neg %a : f32[2]\n  }\n  %c = neg %b : f32[2]\n  kernel @j() -> () {\n    %d = neg %a : f32[2]\n  }\n}\n", 7, 3, "operands: %0 is read inside it but not listed"},
    {HDR "  %c = input \"c\" : f32[2]\n  kernel @k(%a, %c) -> (%b) {\n    %b = neg %a : f32[2]\n  }\n  output \"o\" = %b\n}\n", 4, 3, "listed but not read inside it"},
    {HDR "  kernel @k(%a) -> () {\n    %b = neg %a : f32[2]\n  }\n  output \"o\" = %b\n}\n", 3, 3, "results: %1 is read after the kernel or bound, but not listed"},
    {HDR "  kernel @k(%a) -> (%b, %c) {\n    %b = neg %a : f32[2]\n    %c = neg %b : f32[2]\n  }\n  output \"o\" = %c\n}\n", 3, 3, "results: %1 is listed but neither read after the kernel nor bound"},
    {HDR "  kernel @k(%a) -> (%a) {\n    %b = neg %a : f32[2]\n  }\n  output \"o\" = %b\n}\n", 3, 21, "%a is not defined in this kernel"},
};

static void test_error_cases(void **state) {
  (void)state;
  int bad = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    gc_diag d;
    const error_case *c = &cases[i];
    gc_graph *g = parse_exact(c->text, strlen(c->text), &d);
    if (g) {
      print_error("case %zu parsed but should not:\n%s", i, c->text);
      gc_graph_free(g);
      bad++;
    } else if (d.line != c->line || d.col != c->col || !strstr(d.msg, c->word)) {
      print_error("case %zu: got %d:%d \"%s\", expected %d:%d with \"%s\"\n", i, d.line, d.col,
                  d.msg, c->line, c->col, c->word);
      bad++;
    }
  }
  assert_int_equal(bad, 0);
}

static void test_format_error(void **state) {
  (void)state;
  const char *text = HDR "  %b = frob %a : f32[2]\n}\n";
  gc_diag d;
  assert_null(parse_exact(text, strlen(text), &d));
  char out[512];
  gc_format_error("t.gcir", text, strlen(text), &d, out, sizeof out);
  assert_string_equal(out,
                      "t.gcir:3:8: error: unknown op 'frob'\n"
                      "  %b = frob %a : f32[2]\n"
                      "       ^\n");
  /* tabs in the line are kept under the caret so it lines up */
  const char *tabbed = "graph @t {\n\t%a = bad : f32[]\n}";
  assert_null(parse_exact(tabbed, strlen(tabbed), &d));
  assert_int_equal(d.col, 7);
  gc_format_error("x", tabbed, strlen(tabbed), &d, out, sizeof out);
  assert_string_equal(out, "x:2:7: error: unknown op 'bad'\n\t%a = bad : f32[]\n\t     ^\n");
  /* a message not tied to the text, and a tiny output buffer */
  gc_diag loose = {.msg = "no position", .line = 0, .col = 0};
  gc_format_error("f", text, strlen(text), &loose, out, sizeof out);
  assert_string_equal(out, "f: error: no position\n");
  gc_format_error("t.gcir", text, strlen(text), &d, out, 8);
  assert_string_equal(out, "t.gcir:");
}

/* A NUL byte inside a string, raw or escaped, is refused at its position
 * (names and labels are C strings: it would cut them short). */
static void test_nul_in_strings(void **state) {
  (void)state;
  static const struct {
    const char *text;
    size_t len;
    int line, col;
    const char *word;
  } nul_cases[] = {
#define NUL_CASE(t, line, col, word) {t, sizeof t - 1, line, col, word}
      NUL_CASE("graph @t {\n  %a = input \"x\0y\" : f32[2]\n}\n", 2, 16, "NUL byte in string"),
      NUL_CASE("graph @t {\n  %a = input \"\0\" : f32[2]\n}\n", 2, 15, "NUL byte in string"),
      NUL_CASE("graph @t {\n  %a = input \"a\" {label=\"l\0\"} : f32[2]\n}\n", 2, 27, "NUL byte in string"),
      NUL_CASE("graph @t {\n  %a = input \"a\" : f32[2]\n  output \"o\0\" = %a\n}\n", 3, 12, "NUL byte in string"),
      NUL_CASE("graph @t {\n  %a = input \"x\\x00y\" : f32[2]\n}\n", 2, 16, "not 00"),
      NUL_CASE("graph @t {\n  %a = input \"x\" : f32[2]\0\n}\n", 2, 26, "unexpected byte 0x00"),
#undef NUL_CASE
  };
  for (size_t i = 0; i < sizeof nul_cases / sizeof nul_cases[0]; i++) {
    gc_diag d;
    gc_graph *g = parse_exact(nul_cases[i].text, nul_cases[i].len, &d);
    if (g) fail_msg("case %zu parsed", i);
    if (d.line != nul_cases[i].line || d.col != nul_cases[i].col || !strstr(d.msg, nul_cases[i].word))
      fail_msg("case %zu: got %d:%d \"%s\", expected %d:%d with \"%s\"", i, d.line, d.col, d.msg,
               nul_cases[i].line, nul_cases[i].col, nul_cases[i].word);
  }
  /* the source line shows the NUL as \x00, the caret under it */
  gc_diag d;
  const char *t = nul_cases[0].text;
  assert_null(parse_exact(t, nul_cases[0].len, &d));
  char out[512];
  gc_format_error("n.gcir", t, nul_cases[0].len, &d, out, sizeof out);
  assert_string_equal(out, "n.gcir:2:16: error: NUL byte in string (a name or label cannot hold one)\n"
                           "  %a = input \"x\\x00y\" : f32[2]\n"
                           "               ^\n");
}

static void test_numbers_and_strings(void **state) {
  (void)state;
  const char *text = "graph @n.1-b { # comment } not the end\n"
                     "  %a = const 0x10 : i32[]\n"
                     "  %b = const -0 : f32[]\n"
                     "  %c = const +inf : f64[]\n"
                     "  %d = const 1e-6 : f64[]\n"
                     "  %e = const 3 : f32[]\n"
                     "  %f = pad %e {lo=[], hi=[], value=-2} : f32[]\n"
                     "  %g = input \"q\\\"\\\\\\n\\t\\x01z\" : bool[0]\n"
                     "  %h = neg %a {} : i32[]\n"
                     "  %t = const true : bool[]\n"
                     "}";
  gc_diag d;
  gc_graph *g = parse_exact(text, strlen(text), &d);
  if (!g) fail_msg("%d:%d: %s", d.line, d.col, d.msg);
  assert_string_equal(g->name, "n.1-b");
  assert_int_equal(g->n_nodes, 9);
  assert_true(g->nodes[8]->attrs.value.value == 1);
  assert_true(g->nodes[0]->attrs.value.value == 16);
  assert_true(g->nodes[1]->attrs.value.value == 0 && signbit(g->nodes[1]->attrs.value.value));
  assert_true(isinf(g->nodes[2]->attrs.value.value) && g->nodes[2]->attrs.value.value > 0);
  assert_true(g->nodes[3]->attrs.value.value == 1e-6);
  assert_true(g->nodes[5]->attrs.pad.value == -2.0);
  assert_string_equal(g->nodes[6]->attrs.name.name, "q\"\\\n\t\x01z");
  assert_int_equal(g->nodes[6]->type.rank, 1);
  assert_int_equal(g->nodes[6]->type.dims[0], 0);
  assert_int_equal(gc_verify(g, &d), 0);
  gc_graph_free(g);
}

static void test_mlp_example(void **state) {
  (void)state;
  /* The example of IR.md, verbatim. */
  const char *text = "graph @mlp {\n"
                     "  %x  = input \"x\" : f32[4,8]\n"
                     "  %w  = param \"w\" : f32[8,16]\n"
                     "  %b  = param \"b\" : f32[16]\n"
                     "  %h  = dot %x, %w : f32[4,16]\n"
                     "  %bb = broadcast %b : f32[4,16]\n"
                     "  %y  = add %h, %bb : f32[4,16]\n"
                     "  %a  = tanh %y : f32[4,16]\n"
                     "  %s  = reduce_sum %a {axes=[0,1]} : f32[]\n"
                     "  output \"loss\" = %s\n"
                     "}\n";
  gc_diag d;
  gc_graph *g = parse_exact(text, strlen(text), &d);
  if (!g) fail_msg("%d:%d: %s", d.line, d.col, d.msg);
  assert_int_equal(g->n_nodes, 8);
  assert_int_equal(g->nodes[3]->op, GC_OP_DOT);
  assert_int_equal(g->nodes[3]->in[0], 0);
  assert_int_equal(g->nodes[3]->in[1], 1);
  assert_int_equal(gc_graph_find_output(g, "loss"), 7);
  assert_int_equal(g->nodes[7]->type.rank, 0);
  gc_graph_free(g);
}

/* A parse either fails with a position inside the text, or gives a graph
 * that verifies and survives a print/parse round trip. */
static void check_outcome(const char *buf, size_t len) {
  gc_diag d;
  gc_graph *g = parse_exact(buf, len, &d);
  if (!g) {
    int lines = 1;
    for (size_t i = 0; i < len; i++) lines += buf[i] == '\n';
    assert_true(d.msg[0] != 0);
    assert_true(d.line >= 1 && d.line <= lines);
    assert_true(d.col >= 1);
    return;
  }
  assert_int_equal(gc_verify(g, &d), 0);
  char *p1 = gc_print(g);
  gc_graph *g2 = gc_parse(p1, strlen(p1), &d);
  if (!g2) fail_msg("reparse failed %d:%d %s\n%s", d.line, d.col, d.msg, p1);
  char *p2 = gc_print(g2);
  assert_string_equal(p1, p2);
  free(p1);
  free(p2);
  gc_graph_free(g2);
  gc_graph_free(g);
}

static uint32_t next_rand(uint64_t *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(*s >> 33);
}

static void test_random_bytes(void **state) {
  (void)state;
  static const char alphabet[] = "graph@{}%=:,[]\"\\# \n\tf32i64bool0123456789.-+eEinfnanx";
  static const char *words[] = {"graph @g {\n", "%a", "%b", " = ", "input \"a\"", "const 1.5",
                                ": f32[2]", ": f32[]", "add %a, %a", "{axes=[0]}", "}", "\n",
                                "output \"o\" = %a\n", "reduce_sum %a", "{label=\"l\"}"};
  uint64_t seed = 12345;
  char buf[96];
  for (int iter = 0; iter < 3000; iter++) {
    size_t len = next_rand(&seed) % 64, k = 0;
    int mode = iter % 3;
    while (k < len) {
      if (mode == 0) buf[k++] = (char)(next_rand(&seed) & 0xff);
      else if (mode == 1) buf[k++] = alphabet[next_rand(&seed) % (sizeof alphabet - 1)];
      else {
        const char *w = words[next_rand(&seed) % (sizeof words / sizeof words[0])];
        for (; *w && k < sizeof buf; w++) buf[k++] = *w;
      }
    }
    check_outcome(buf, k);
  }
}

static void test_mutations_and_prefixes(void **state) {
  (void)state;
  size_t len;
  char *text = read_all_ops(&len);
  size_t close = len;
  while (close > 0 && text[close - 1] != '}') close--;
  for (size_t n = 0; n < len; n++) {
    gc_diag d;
    gc_graph *g = parse_exact(text, n, &d);
    if (n < close) {
      if (g) fail_msg("prefix of %zu bytes parsed", n);
      assert_true(d.line >= 1 && d.col >= 1);
    } else {
      if (!g) fail_msg("prefix of %zu bytes: %d:%d %s", n, d.line, d.col, d.msg);
    }
    gc_graph_free(g);
  }
  uint64_t seed = 99;
  char *copy = malloc(len);
  for (int iter = 0; iter < 400; iter++) {
    memcpy(copy, text, len);
    for (int k = 0; k < 1 + iter % 3; k++) copy[next_rand(&seed) % len] = (char)(next_rand(&seed) & 0x7f);
    check_outcome(copy, len);
  }
  free(copy);
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_error_cases),
      cmocka_unit_test(test_format_error),
      cmocka_unit_test(test_nul_in_strings),
      cmocka_unit_test(test_numbers_and_strings),
      cmocka_unit_test(test_mlp_example),
      cmocka_unit_test(test_random_bytes),
      cmocka_unit_test(test_mutations_and_prefixes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
