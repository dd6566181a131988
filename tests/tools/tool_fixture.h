/* tests/tools/tool_fixture.h — a fixture for tests that run the built tools
 * (header only): a fresh temporary directory per test, files written into and
 * read from it, and `fixture_run(f, "gc-opt", args)` running a program there
 * with its exit status, stdout and stderr kept. */
#ifndef GC_TESTS_TOOL_FIXTURE_H
#define GC_TESTS_TOOL_FIXTURE_H

#include "tests/testutil.h"
#include "io/file.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
  char dir[64];     /* the test's temporary directory */
  char out[16384];  /* stdout of the last fixture_run */
  char err[8192];   /* stderr of the last fixture_run */
} gc_fixture;

/* Where the built programs are: $GC_BIN_DIR, else the build's GC_BIN_DIR. */
static inline const char *fixture_bin_dir(void) {
  const char *env = getenv("GC_BIN_DIR");
  return env && *env ? env : GC_BIN_DIR;
}

/* The path of `name` inside the fixture's directory, into out[size]. */
static inline void fixture_path(const gc_fixture *f, const char *name, char *out, size_t size) {
  if ((size_t)snprintf(out, size, "%s/%s", f->dir, name) >= size) fail_msg("path too long: %s/%s", f->dir, name);
}

/* Writes `len` bytes of `data` to `name` in the fixture's directory. */
static inline void fixture_write(const gc_fixture *f, const char *name, const char *data, size_t len) {
  char p[256];
  fixture_path(f, name, p, sizeof p);
  FILE *fp = fopen(p, "wb");
  if (!fp) fail_msg("cannot write %s", p);
  assert_int_equal(fwrite(data, 1, len, fp), len);
  fclose(fp);
}

/* Writes the string `text` to `name` in the fixture's directory. */
static inline void fixture_write_text(const gc_fixture *f, const char *name, const char *text) {
  fixture_write(f, name, text, strlen(text));
}

/* Reads at most size-1 bytes of `name` (in the fixture's directory) into buf,
 * NUL-terminated; a missing file reads as "". Returns the bytes read. */
static inline size_t fixture_read(const gc_fixture *f, const char *name, char *buf, size_t size) {
  char p[256];
  fixture_path(f, name, p, sizeof p);
  FILE *fp = fopen(p, "rb");
  size_t n = fp ? fread(buf, 1, size - 1, fp) : 0;
  if (fp) fclose(fp);
  buf[n] = 0;
  return n;
}

/* The whole of `name` in the fixture's directory, malloc'd (the caller
 * frees) and NUL-terminated, its length in *len; a missing file fails the
 * test.  (f->out keeps only the first 16 KB of a program's output.) */
static inline char *fixture_slurp(const gc_fixture *f, const char *name, size_t *len) {
  char p[256];
  gc_diag d;
  fixture_path(f, name, p, sizeof p);
  char *text = gc_read_file(p, len, &d);
  if (!text) fail_msg("%s", d.msg);
  return text;
}

/* Runs `TOOL ARGS` (TOOL from the bin dir) in the fixture's directory through
 * the shell; keeps stdout in f->out and stderr in f->err, returns the exit status. */
static inline int fixture_run(gc_fixture *f, const char *tool, const char *args) {
  char cmd[2048];
  int len = snprintf(cmd, sizeof cmd, "cd '%s' && '%s/%s' %s >stdout.txt 2>stderr.txt", f->dir, fixture_bin_dir(),
                     tool, args);
  if ((size_t)len >= sizeof cmd) fail_msg("command too long: %s %s", tool, args);
  int st = system(cmd);
  fixture_read(f, "stdout.txt", f->out, sizeof f->out);
  fixture_read(f, "stderr.txt", f->err, sizeof f->err);
  assert_true(WIFEXITED(st));
  return WEXITSTATUS(st);
}

/* cmocka setup: a gc_fixture with a new empty directory under /tmp in *state. */
static inline int fixture_setup(void **state) {
  gc_fixture *f = calloc(1, sizeof *f);
  if (!f) return -1;
  snprintf(f->dir, sizeof f->dir, "/tmp/gc_tool_test_XXXXXX");
  if (!mkdtemp(f->dir)) {
    free(f);
    return -1;
  }
  *state = f;
  return 0;
}

/* cmocka teardown: removes the fixture's directory and frees it. */
static inline int fixture_teardown(void **state) {
  gc_fixture *f = *state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
  int rc = system(cmd);
  free(f);
  return rc == 0 ? 0 : -1;
}

/* About 12 KB of verse-like text, the same every time, as corpus.txt in
 * the fixture's directory (the training tools' tests read it). */
static inline void fixture_write_corpus(const gc_fixture *f) {
  static const char *const lines[] = {
      "ROMEO:\nBut soft, what light through yonder window breaks?\n",
      "JULIET:\nO Romeo, Romeo, wherefore art thou Romeo?\n",
      "MERCUTIO:\nA plague on both your houses!\n",
      "FRIAR:\nThese violent delights have violent ends.\n",
      "NURSE:\nGood morrow to the gentle lady and her love.\n",
  };
  char text[13000];
  size_t n = 0;
  for (unsigned i = 0; n + 64 < sizeof text; i = i * 7 + 3) {
    const char *l = lines[i % 5];
    memcpy(text + n, l, strlen(l));
    n += strlen(l);
  }
  fixture_write(f, "corpus.txt", text, n);
}

/* The fixture, with corpus.txt written into its directory. */
static inline int fixture_setup_with_corpus(void **state) {
  if (fixture_setup(state)) return -1;
  fixture_write_corpus(*state);
  return 0;
}

#endif
