/* Whole-file reading, mapping and atomic replacement (see file.h). */
#include "io/file.h"

#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- reading --------------------------------------------------------------- */

/* All of `f` in a NUL-terminated buffer; stops with *too_big set once more
 * than `max` bytes have come.  NULL when out of memory. */
static char *read_stream(FILE *f, size_t max, size_t *len, bool *too_big) {
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  *too_big = false;
  while (buf) {
    size_t want = cap - n - 1, room = max - n;
    if (want > room) want = room + 1; /* one byte past max says it is too big */
    size_t got = fread(buf + n, 1, want, f);
    n += got;
    if (n > max) {
      *too_big = true;
      break;
    }
    if (got < want) break; /* end of file or an error */
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

char *gc_read_file_max(const char *path, size_t max_len, size_t *len, gc_diag *d) {
  bool is_stdin = strcmp(path, "-") == 0, too_big;
  const char *name = is_stdin ? "<stdin>" : path;
  FILE *f = is_stdin ? stdin : fopen(path, "rb");
  if (!f) {
    gc_diag_set(d, "%s: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  errno = 0;
  char *buf = read_stream(f, max_len, len, &too_big);
  int err = ferror(f) ? (errno ? errno : EIO) : 0;
  if (!is_stdin) fclose(f);
  if (buf && too_big && !err) {
    gc_diag_set(d, "%s: larger than %zu bytes, the most accepted here", name, max_len);
  } else if (!buf || err) {
    gc_diag_set(d, "%s: cannot read: %s", name, buf ? strerror(err) : "out of memory");
  } else {
    return buf;
  }
  free(buf);
  return NULL;
}

char *gc_read_file(const char *path, size_t *len, gc_diag *d) {
  return gc_read_file_max(path, SIZE_MAX, len, d);
}

const void *gc_map_file(const char *path, size_t *len, gc_diag *d) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return gc_diag_set(d, "%s: cannot open: %s", path, strerror(errno)), NULL;
  struct stat st;
  const char *why = NULL;
  void *map = NULL;
  if (fstat(fd, &st) != 0) why = strerror(errno);
  else if (!S_ISREG(st.st_mode)) why = "not a regular file";
  else if (st.st_size == 0) map = "";
  else if ((map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
    why = strerror(errno), map = NULL;
  close(fd);
  if (why) return gc_diag_set(d, "%s: cannot read: %s", path, why), NULL;
  *len = (size_t)st.st_size;
  return map;
}

void gc_unmap_file(const void *data, size_t len) {
  if (data && len > 0) munmap((void *)data, len);
}

/* ---- atomic writing -------------------------------------------------------- */

static int write_all(int fd, const char *p, size_t len) {
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      if (w == 0) errno = EIO;
      return -1;
    }
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

static int write_parts(int fd, const gc_file_part *parts, int n) {
  for (int i = 0; i < n; i++)
    if (write_all(fd, parts[i].data, parts[i].len) != 0) return -1;
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

int gc_write_file_parts_atomic(const char *path, const gc_file_part *parts, int n, gc_diag *d) {
  size_t size = strlen(path) + 32;
  char *tmp = malloc(size);
  if (!tmp) return gc_diag_set(d, "cannot write %s: out of memory", path);
  /* unique per process and per call: threads may write the same path */
  static atomic_uint serial;
  snprintf(tmp, size, "%s.tmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&serial, 1));
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    gc_diag_set(d, "cannot write %s: cannot create %s: %s", path, tmp, strerror(errno));
    free(tmp);
    return -1;
  }
  int ok = write_parts(fd, parts, n) == 0 && fsync(fd) == 0;
  int err = errno;
  if (close(fd) != 0 && ok) ok = 0, err = errno;
  if (ok && rename(tmp, path) != 0) ok = 0, err = errno;
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

int gc_write_file_atomic(const char *path, const void *data, size_t len, gc_diag *d) {
  gc_file_part part = {data, len};
  return gc_write_file_parts_atomic(path, &part, 1, d);
}
