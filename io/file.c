/* Whole-file reading and atomic replacement (see file.h). */
#include "io/file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

char *gc_read_file(const char *path, size_t *len, gc_diag *d) {
  bool is_stdin = strcmp(path, "-") == 0;
  FILE *f = is_stdin ? stdin : fopen(path, "rb");
  if (!f) {
    gc_diag_set(d, "%s: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  errno = 0;
  char *buf = read_stream(f, len);
  int err = ferror(f) ? (errno ? errno : EIO) : 0;
  if (!is_stdin) fclose(f);
  if (!buf || err) {
    gc_diag_set(d, "%s: cannot read: %s", is_stdin ? "<stdin>" : path, buf ? strerror(err) : "out of memory");
    free(buf);
    return NULL;
  }
  return buf;
}

static int write_all(int fd, const char *p, size_t len) {
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

static void fsync_parent_dir(const char *path) {
  char *copy = strdup(path);
  if (!copy) return;
  int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    fsync(fd);   /* best effort: some filesystems refuse directory fsync */
    close(fd);
  }
  free(copy);
}

int gc_write_file_atomic(const char *path, const void *data, size_t len, gc_diag *d) {
  size_t n = strlen(path) + 32;
  char *tmp = malloc(n);
  if (!tmp) return gc_diag_set(d, "out of memory");
  snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    gc_diag_set(d, "cannot create %s: %s", tmp, strerror(errno));
    free(tmp);
    return -1;
  }
  int ok = write_all(fd, data, len) == 0 && fsync(fd) == 0;
  int err = errno;
  ok = close(fd) == 0 && ok;
  if (ok && rename(tmp, path) != 0) {
    ok = 0;
    err = errno;
  }
  if (!ok) {
    unlink(tmp);
    gc_diag_set(d, "cannot write %s: %s", path, strerror(err));
    free(tmp);
    return -1;
  }
  free(tmp);
  fsync_parent_dir(path);
  return 0;
}
