/* tests/case_file.h — the text cases of tests/passes/cases and
 * tests/codegen/cases: a file of "# KEY: value" headers, an input, and the
 * expected output as comment lines after "# expect:" (header only). */
#ifndef GC_TESTS_CASE_FILE_H
#define GC_TESTS_CASE_FILE_H

#include "tests/testutil.h"
#include "base/strbuf.h"
#include "io/file.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

/* The value after "# KEY:" on its own line, or NULL (malloc'd). */
static inline char *gc_case_header(const char *text, const char *key) {
  char pat[64];
  snprintf(pat, sizeof pat, "# %s:", key);
  const char *p = strstr(text, pat);
  if (!p) return NULL;
  p += strlen(pat);
  while (*p == ' ') p++;
  return strndup(p, strcspn(p, "\n"));
}

/* The expectation: the lines after "# expect:", each without its "# "
 * (malloc'd). */
static inline char *gc_case_expectation(const char *text) {
  const char *p = strstr(text, "# expect:\n");
  if (!p) return strdup("");
  p += strlen("# expect:\n");
  char *out = malloc(strlen(p) + 2);
  if (!out) fail_msg("out of memory");
  size_t n = 0;
  while (*p) {
    size_t len = strcspn(p, "\n");
    const char *line = p;
    if (len >= 2 && line[0] == '#' && line[1] == ' ') line += 2, len -= 2;
    else if (len >= 1 && line[0] == '#') line += 1, len -= 1;
    memcpy(out + n, line, len);
    n += len;
    out[n++] = '\n';
    p += strcspn(p, "\n");
    if (*p) p++;
  }
  out[n] = 0;
  return out;
}

/* The case file dir/name, whole (malloc'd), its length in *len. */
static inline char *gc_case_read(const char *dir, const char *name, size_t *len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  gc_diag d;
  char *text = gc_read_file(path, len, &d);
  if (!text) fail_msg("%s", d.msg);
  return text;
}

/* GC_UPDATE_EXPECT=1: rewrite the case file dir/name with `printed` as its
 * expectation (everything before "# expect:" kept). */
static inline void gc_case_update_expectation(const char *dir, const char *name, const char *text,
                                              const char *printed) {
  const char *p = strstr(text, "# expect:\n");
  gc_strbuf o = {0};
  gc_strbuf_printf(&o, "%.*s# expect:\n", (int)(p ? (size_t)(p - text) : strlen(text)), text);
  for (const char *l = printed; *l;) {
    size_t len = strcspn(l, "\n");
    gc_strbuf_printf(&o, "# %.*s\n", (int)len, l);
    l += len + (l[len] ? 1 : 0);
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  gc_diag d;
  char *out = gc_strbuf_take(&o);
  if (gc_write_file_atomic(path, out, strlen(out), &d)) fail_msg("%s", d.msg);
  free(out);
}

static inline int gc_by_name_(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of dir's files ending in `suffix`, sorted, into names[max]
 * (each malloc'd: the caller frees them); their count. */
static inline int gc_case_files(const char *dir, const char *suffix, char **names, int max) {
  DIR *dp = opendir(dir);
  if (!dp) fail_msg("cannot open %s", dir);
  int n = 0;
  size_t k = strlen(suffix);
  for (struct dirent *e; (e = readdir(dp)) && n < max;)
    if (strlen(e->d_name) > k && strcmp(e->d_name + strlen(e->d_name) - k, suffix) == 0) names[n++] = strdup(e->d_name);
  closedir(dp);
  qsort(names, (size_t)n, sizeof *names, gc_by_name_);
  return n;
}

#endif
