/* text/tokenizer_io.c — saving and loading a tokenizer in the "gc-bpe 1"
 * text format:
 *
 *   gc-bpe 1
 *   vocab_size V
 *   specials S
 *   <special 0>           S lines, the token's text verbatim
 *   merges M
 *   L R                   M lines: merge i joins ids L and R into 256+i
 *   end
 *
 * Every line ends with '\n'; V = 256 + M + S.  The "end" line catches
 * truncated files. */
#include "text/bpe_internal.h"
#include "io/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- saving --------------------------------------------------------------- */

static int write_body(const gc_tokenizer *t, FILE *f) {
  fprintf(f, "gc-bpe 1\nvocab_size %d\nspecials %d\n", t->vocab_size, t->n_specials);
  for (int k = 0; k < t->n_specials; k++) fprintf(f, "%s\n", t->specials[k]);
  fprintf(f, "merges %d\n", t->n_merges);
  for (int i = 0; i < t->n_merges; i++)
    fprintf(f, "%d %d\n", (int)t->merges[2 * i], (int)t->merges[2 * i + 1]);
  fprintf(f, "end\n");
  return ferror(f) ? -1 : 0;
}

/* The text is built in memory (a few MB at most), then written atomically. */
int gc_tokenizer_save(const gc_tokenizer *t, const char *path, gc_diag *d) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  int ok = f && write_body(t, f) == 0;
  if (f && fclose(f) != 0) ok = 0;
  int rc = ok ? gc_write_file_atomic(path, text, len, d)
              : gc_diag_set(d, "cannot write %s: out of memory", path);
  free(text);
  return rc;
}

/* ---- loading -------------------------------------------------------------- */

#define MAX_FILE_BYTES ((size_t)1 << 30)

typedef struct {
  const char *path;
  const char *p, *end;
  int line;
  gc_diag *d;
} reader;

/* Returns the next line (without '\n', NUL-terminated in place), or NULL
 * with an error when the file ends or holds a NUL byte. */
static char *next_line(reader *r, const char *what) {
  r->line++;
  if (r->p >= r->end) {
    gc_diag_set(r->d, "%s:%d: file ends early, expected %s (truncated?)", r->path, r->line, what);
    return NULL;
  }
  char *start = (char *)r->p, *nl = memchr(start, '\n', (size_t)(r->end - r->p));
  if (!nl) {
    gc_diag_set(r->d, "%s:%d: line does not end with a newline, expected %s (truncated?)",
                r->path, r->line, what);
    return NULL;
  }
  if (memchr(start, 0, (size_t)(nl - start))) {
    gc_diag_set(r->d, "%s:%d: NUL byte in %s", r->path, r->line, what);
    return NULL;
  }
  *nl = 0;
  r->p = nl + 1;
  return start;
}

/* Parses a decimal in [lo, hi] spanning all of s[0..]; sets *end to after it. */
static int parse_int(const char *s, long lo, long hi, long *out, const char **end) {
  if (*s < '0' || *s > '9') return -1;
  errno = 0;
  char *e;
  long v = strtol(s, &e, 10);
  if (errno != 0 || v < lo || v > hi) return -1;
  *out = v;
  *end = e;
  return 0;
}

/* Reads a line "<key> <n>" with n in [lo, hi]. */
static int keyed_int(reader *r, const char *key, long lo, long hi, long *out) {
  char *line = next_line(r, key);
  if (!line) return -1;
  size_t k = strlen(key);
  const char *end;
  if (strncmp(line, key, k) != 0 || line[k] != ' ' ||
      parse_int(line + k + 1, lo, hi, out, &end) < 0 || *end != 0)
    return gc_diag_set(r->d, "%s:%d: expected \"%s N\" with N in %ld..%ld, got \"%.60s\"",
                       r->path, r->line, key, lo, hi, line);
  return 0;
}

static int read_merge(reader *r, int i, int32_t *pair) {
  char *line = next_line(r, "a merge \"LEFT RIGHT\"");
  if (!line) return -1;
  long a, b;
  const char *e1, *e2;
  if (parse_int(line, 0, 255 + i, &a, &e1) < 0 || *e1 != ' ' ||
      parse_int(e1 + 1, 0, 255 + i, &b, &e2) < 0 || *e2 != 0)
    return gc_diag_set(r->d, "%s:%d: merge %d must be two token ids in 0..%d separated by one "
                             "space, got \"%.60s\"", r->path, r->line, i, 255 + i, line);
  pair[0] = (int32_t)a;
  pair[1] = (int32_t)b;
  return 0;
}

static gc_tokenizer *parse(reader *r) {
  long vocab, n_specials, n_merges;
  char *magic = next_line(r, "the header \"gc-bpe 1\"");
  if (!magic) return NULL;
  if (strcmp(magic, "gc-bpe 1") != 0) {
    gc_diag_set(r->d, "%s:1: not a gc tokenizer file (expected header \"gc-bpe 1\")", r->path);
    return NULL;
  }
  if (keyed_int(r, "vocab_size", 256, 256 + (1L << 24), &vocab) < 0 ||
      keyed_int(r, "specials", 0, vocab - 256, &n_specials) < 0)
    return NULL;
  const char **specials = calloc((size_t)n_specials + 1, sizeof *specials);
  int32_t *merges = malloc((2 * (size_t)(vocab - 256) + 2) * sizeof *merges);
  gc_tokenizer *t = NULL;
  int ok = specials && merges;
  if (!ok) gc_diag_set(r->d, "%s: out of memory", r->path);
  for (long k = 0; ok && k < n_specials; k++) ok = (specials[k] = next_line(r, "a special token")) != NULL;
  ok = ok && keyed_int(r, "merges", vocab - 256 - n_specials, vocab - 256 - n_specials, &n_merges) == 0;
  for (long i = 0; ok && i < n_merges; i++) ok = read_merge(r, (int)i, merges + 2 * i) == 0;
  char *end = ok ? next_line(r, "\"end\"") : NULL;
  if (end && (strcmp(end, "end") != 0 || r->p != r->end))
    gc_diag_set(r->d, "%s:%d: expected the last line \"end\"", r->path, r->line);
  else if (end) {
    gc_diag tmp = {0};
    t = gc_tokenizer_from_merges(merges, (int)n_merges, specials, (int)n_specials, &tmp);
    if (!t) gc_diag_set(r->d, "%s: %s", r->path, tmp.msg);
  }
  free(specials);
  free(merges);
  return t;
}

gc_tokenizer *gc_tokenizer_load(const char *path, gc_diag *d) {
  size_t len;
  char *buf = gc_read_file_max(path, MAX_FILE_BYTES, &len, d);
  if (!buf) return NULL;
  reader r = {.path = path, .p = buf, .end = buf + len, .line = 0, .d = d};
  gc_tokenizer *t = parse(&r);
  free(buf);
  return t;
}
