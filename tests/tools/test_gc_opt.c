/* gc-opt as a program: canonical printing, caret errors, exit codes. */
#include "tests/testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
  char dir[64];
  char out[4096], err[4096];
} sandbox;

static const char *bin_dir(void) {
  const char *env = getenv("GC_BIN_DIR");
  return env && *env ? env : GC_BIN_DIR;
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (!f) fail_msg("cannot write %s", path);
  fputs(text, f);
  fclose(f);
}

static void read_text(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "rb");
  size_t n = f ? fread(buf, 1, size - 1, f) : 0;
  buf[n] = 0;
  if (f) fclose(f);
}

/* Runs `gc-opt ARGS` inside the sandbox dir; stdout and stderr are captured.
 * Returns the exit status. */
static int run_opt(sandbox *s, const char *args) {
  char cmd[1024], out[128], err[128];
  snprintf(out, sizeof out, "%s/stdout", s->dir);
  snprintf(err, sizeof err, "%s/stderr", s->dir);
  snprintf(cmd, sizeof cmd, "cd %s && '%s/gc-opt' %s >%s 2>%s", s->dir, bin_dir(), args, out, err);
  int st = system(cmd);
  read_text(out, s->out, sizeof s->out);
  read_text(err, s->err, sizeof s->err);
  assert_true(WIFEXITED(st));
  return WEXITSTATUS(st);
}

static int setup(void **state) {
  sandbox *s = calloc(1, sizeof *s);
  snprintf(s->dir, sizeof s->dir, "/tmp/gc_opt_test_XXXXXX");
  if (!mkdtemp(s->dir)) return -1;
  *state = s;
  return 0;
}

static int teardown(void **state) {
  sandbox *s = *state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
  if (system(cmd) != 0) return -1;
  free(s);
  return 0;
}

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
  sandbox *s = *state;
  char path[128];
  snprintf(path, sizeof path, "%s/mlp.gcir", s->dir);
  write_text(path, mlp);
  assert_int_equal(run_opt(s, "mlp.gcir"), 0);
  assert_string_equal(s->out, mlp_printed);
  assert_string_equal(s->err, "");
  /* -o writes the file, stdout stays empty; stdin works as "-" */
  assert_int_equal(run_opt(s, "-o out.gcir mlp.gcir"), 0);
  assert_string_equal(s->out, "");
  char out[4096];
  snprintf(path, sizeof path, "%s/out.gcir", s->dir);
  read_text(path, out, sizeof out);
  assert_string_equal(out, mlp_printed);
  assert_int_equal(run_opt(s, "- < mlp.gcir"), 0);
  assert_string_equal(s->out, mlp_printed);
  /* the printed form is a fixed point */
  assert_int_equal(run_opt(s, "out.gcir"), 0);
  assert_string_equal(s->out, mlp_printed);
}

static void test_malformed_file(void **state) {
  sandbox *s = *state;
  char path[128];
  snprintf(path, sizeof path, "%s/bad.gcir", s->dir);
  write_text(path, "graph @t {\n  %a = input \"a\" : f32[2]\n  %b = add %a, %a : f32[3]\n}\n");
  assert_int_equal(run_opt(s, "bad.gcir"), 1);
  assert_string_equal(s->out, "");
  assert_string_equal(s->err,
                      "bad.gcir:3:8: error: add: result type f32[3] does not follow from operands "
                      "(f32[2], f32[2]); expected f32[2]\n"
                      "  %b = add %a, %a : f32[3]\n"
                      "       ^\n");
  /* from stdin the file is called <stdin> */
  assert_int_equal(run_opt(s, "- < bad.gcir"), 1);
  assert_non_null(strstr(s->err, "<stdin>:3:8: error: "));
  /* trailing garbage */
  write_text(path, "graph @t {\n}\n}\n");
  assert_int_equal(run_opt(s, "bad.gcir"), 1);
  assert_non_null(strstr(s->err, "bad.gcir:3:1: error: unexpected '}' after the graph's closing '}'"));
  /* a file that does not exist */
  assert_int_equal(run_opt(s, "missing.gcir"), 1);
  assert_non_null(strstr(s->err, "missing.gcir: cannot open"));
}

static void test_help_and_usage(void **state) {
  sandbox *s = *state;
  assert_int_equal(run_opt(s, "--help"), 0);
  assert_non_null(strstr(s->out, "usage: gc-opt FILE.gcir [-o OUT]"));
  assert_int_equal(run_opt(s, ""), 2);
  assert_non_null(strstr(s->err, "no input file"));
  assert_int_equal(run_opt(s, "--bogus x.gcir"), 2);
  assert_non_null(strstr(s->err, "unknown option '--bogus'"));
  assert_int_equal(run_opt(s, "a.gcir b.gcir"), 2);
  assert_int_equal(run_opt(s, "a.gcir -o"), 2);
  assert_non_null(strstr(s->err, "-o needs a file name"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_prints_canonical_form, setup, teardown),
      cmocka_unit_test_setup_teardown(test_malformed_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_help_and_usage, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
