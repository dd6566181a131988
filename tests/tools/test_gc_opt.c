/* gc-opt as a program: canonical printing, caret errors, exit codes. */
#include "tests/tools/tool_fixture.h"

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
                      "  %a = input \"x?y\" : f32[2]\n"
                      "               ^\n");
}

static void test_help_and_usage(void **state) {
  gc_fixture *f = *state;
  assert_int_equal(fixture_run(f, "gc-opt", "--help"), 0);
  assert_non_null(strstr(f->out, "usage: gc-opt FILE.gcir [-o OUT]"));
  assert_int_equal(fixture_run(f, "gc-opt", ""), 2);
  assert_non_null(strstr(f->err, "no input file"));
  assert_int_equal(fixture_run(f, "gc-opt", "--bogus x.gcir"), 2);
  assert_non_null(strstr(f->err, "unknown option '--bogus'"));
  assert_int_equal(fixture_run(f, "gc-opt", "a.gcir b.gcir"), 2);
  assert_int_equal(fixture_run(f, "gc-opt", "a.gcir -o"), 2);
  assert_non_null(strstr(f->err, "-o needs a file name"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_prints_canonical_form, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_malformed_file, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_nul_byte_in_name, fixture_setup, fixture_teardown),
      cmocka_unit_test_setup_teardown(test_help_and_usage, fixture_setup, fixture_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
