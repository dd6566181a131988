/* Helpers shared by the command-line programs (see cli.h). */
#include "tools/cli.h"
#include "io/file.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *gc_cli_display_name(const char *path) {
  return !path || strcmp(path, "-") == 0 ? "<stdin>" : path;
}

char *gc_cli_read_file(const char *path, size_t *len, char *errbuf, size_t size) {
  gc_diag d = {0};
  char *buf = gc_read_file(path, len, &d);
  if (!buf) snprintf(errbuf, size, "%s", d.msg);
  return buf;
}

int gc_cli_write_file(const char *path, const char *data, size_t len, char *errbuf, size_t size) {
  if (path && strcmp(path, "-") != 0) {
    gc_diag d = {0};
    int rc = gc_write_file_atomic(path, data, len, &d);
    if (rc) snprintf(errbuf, size, "%s", d.msg);
    return rc;
  }
  bool ok = fwrite(data, 1, len, stdout) == len;
  if (fflush(stdout) != 0 || !ok) {
    snprintf(errbuf, size, "cannot write <stdout>: %s", strerror(errno));
    return -1;
  }
  return 0;
}

int gc_cli_close_stdout(const char *prog) {
  errno = 0;
  bool failed = ferror(stdout) != 0;
  int err = errno;
  if (fclose(stdout) != 0 && errno != EBADF) failed = true, err = errno;   /* EBADF: there was none */
  if (!failed) return 0;
  fprintf(stderr, "%s: error: cannot write <stdout>: %s\n", prog, err ? strerror(err) : "write error");
  return GC_EXIT_ERROR;
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

gc_graph *gc_cli_load_graph_source(const char *path, char **text, size_t *len) {
  char err[1024];
  *text = gc_cli_read_file(path, len, err, sizeof err);
  if (!*text) {
    fprintf(stderr, "error: %s\n", err);
    return NULL;
  }
  gc_diag d = {0};
  gc_graph *g = gc_parse(*text, *len, &d);
  if (g && gc_verify(g, &d)) {
    gc_graph_free(g);
    g = NULL;
  }
  if (!g) gc_cli_print_diag(gc_cli_display_name(path), *text, *len, &d);
  return g;
}

gc_graph *gc_cli_load_graph(const char *path) {
  char *text;
  size_t len;
  gc_graph *g = gc_cli_load_graph_source(path, &text, &len);
  free(text);
  return g;
}
