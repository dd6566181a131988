/* tests/tools/nan_fixture.h — helpers the --check-nans tests share (header
 * only): tensor files written into the fixture, and checks on a report in
 * the last program's stderr. */
#ifndef GC_TESTS_NAN_FIXTURE_H
#define GC_TESTS_NAN_FIXTURE_H

#include "tests/tools/tool_fixture.h"
#include "io/safetensors.h"

#include <string.h>
#include <sys/stat.h>

/* name -> f32 tensor of `dims` holding `v`. */
static inline void put(gc_tensor_map *m, const char *name, int rank, const int64_t *dims, const float *v) {
  gc_type t = gc_type_make(GC_F32, rank, dims);
  gc_tensor *x = gc_tensor_new(&t);
  assert_non_null(x);
  memcpy(x->data, v, gc_tensor_bytes(x));
  gc_tensor_map_put(m, name, x);
}

/* Writes m to `name` in the fixture's directory and empties it. */
static inline void save(const gc_fixture *f, const char *name, gc_tensor_map *m) {
  char p[256];
  gc_diag d;
  fixture_path(f, name, p, sizeof p);
  if (gc_safetensors_write(p, m, &d) < 0) fail_msg("%s", d.msg);
  gc_tensor_map_clear(m);
}

/* The last program's stderr contains `text`. */
static inline void expect(const gc_fixture *f, const char *text) {
  if (!strstr(f->err, text)) fail_msg("wanted \"%s\" in stderr:\n%s", text, f->err);
}

static inline bool exists(const gc_fixture *f, const char *name) {
  char p[256];
  struct stat st;
  fixture_path(f, name, p, sizeof p);
  return stat(p, &st) == 0;
}

/* Line n (1-based) of a file of the fixture contains `text`. */
static inline void expect_line(const gc_fixture *f, const char *file, int n, const char *text) {
  size_t len;
  char *s = fixture_slurp(f, file, &len), *p = s;
  for (int i = 1; i < n && p; i++) p = strchr(p, '\n'), p = p ? p + 1 : NULL;
  char *end = p ? strchr(p, '\n') : NULL;
  if (end) *end = 0;
  if (!p || !strstr(p, text)) fail_msg("%s line %d is \"%s\", wanted \"%s\" in it", file, n, p ? p : "", text);
  free(s);
}

#endif
