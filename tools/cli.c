/* Helpers shared by the command-line programs (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *gc_cli_display_name(const char *path) {
  return !path || strcmp(path, "-") == 0 ? "<stdin>" : path;
}

static char *read_stream(FILE *f, size_t *len) {
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    n += fread(buf + n, 1, cap - n - 1, f);
    if (n + 1 < cap) break; /* short read: end of file or an error */
    char *bigger = realloc(buf, cap * 2);
    if (!bigger) free(buf);
    buf = bigger;
    cap *= 2;
  }
  if (!buf) return NULL;
  buf[n] = 0;
  *len = n;
  return buf;
}

char *gc_cli_read_file(const char *path, size_t *len, char *errbuf, size_t size) {
  bool is_stdin = strcmp(path, "-") == 0;
  FILE *f = is_stdin ? stdin : fopen(path, "rb");
  if (!f) {
    snprintf(errbuf, size, "%s: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  errno = 0;
  char *buf = read_stream(f, len);
  int err = ferror(f) ? (errno ? errno : EIO) : 0;
  if (!is_stdin) fclose(f);
  if (!buf || err) {
    snprintf(errbuf, size, "%s: cannot read: %s", gc_cli_display_name(path),
             buf ? strerror(err) : "out of memory");
    free(buf);
    return NULL;
  }
  return buf;
}

int gc_cli_write_file(const char *path, const char *data, size_t len, char *errbuf, size_t size) {
  bool is_stdout = !path || strcmp(path, "-") == 0;
  FILE *f = is_stdout ? stdout : fopen(path, "wb");
  if (!f) {
    snprintf(errbuf, size, "%s: cannot open for writing: %s", path, strerror(errno));
    return -1;
  }
  bool ok = fwrite(data, 1, len, f) == len;
  ok = (is_stdout ? fflush(f) : fclose(f)) == 0 && ok;
  if (!ok) {
    snprintf(errbuf, size, "%s: cannot write: %s", is_stdout ? "<stdout>" : path, strerror(errno));
    return -1;
  }
  return 0;
}

int gc_cli_usage_error(const char *prog, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s: ", prog);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry '%s --help' for more information.\n", prog);
  return GC_EXIT_USAGE;
}

void gc_cli_print_diag(const char *file, const char *text, size_t len, const gc_diag *d) {
  /* room for the message, the source line and its caret line */
  size_t size = sizeof d->msg + strlen(file) + 64 + (text ? 2 * (len < 65536 ? len : 65536) : 0);
  char *out = malloc(size);
  if (!out) {
    fprintf(stderr, "%s: error: %s\n", file, d->msg);
    return;
  }
  gc_format_error(file, text, len, d, out, size);
  fputs(out, stderr);
  free(out);
}

gc_graph *gc_cli_load_graph(const char *path) {
  char err[1024];
  size_t len;
  char *text = gc_cli_read_file(path, &len, err, sizeof err);
  if (!text) {
    fprintf(stderr, "error: %s\n", err);
    return NULL;
  }
  gc_diag d;
  gc_graph *g = gc_parse(text, len, &d);
  if (!g) gc_cli_print_diag(gc_cli_display_name(path), text, len, &d);
  free(text);
  return g;
}
