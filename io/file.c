/* Whole-file reading, mapping and atomic replacement (see file.h). */
#include "io/file.h"

#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
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

char *gc_read_regular_file(const char *path, size_t max_len, size_t *len, gc_diag *d) {
  /* O_NONBLOCK: opening a FIFO does not wait for a writer */
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const char *why = errno == ELOOP ? "a symlink, not a regular file" : strerror(errno);
    return gc_diag_set(d, "%s: cannot open: %s", path, why), NULL;
  }
  struct stat st;
  const char *why = fstat(fd, &st) != 0 ? strerror(errno) : !S_ISREG(st.st_mode) ? "not a regular file" : NULL;
  if (!why && (uint64_t)st.st_size > max_len) {
    close(fd);
    return gc_diag_set(d, "%s: larger than %zu bytes, the most accepted here", path, max_len), NULL;
  }
  FILE *f = why ? NULL : fdopen(fd, "rb");
  if (!f) {
    if (!why) why = strerror(errno);
    close(fd);
    return gc_diag_set(d, "%s: cannot read: %s", path, why), NULL;
  }
  bool too_big;
  errno = 0;
  char *buf = read_stream(f, max_len, len, &too_big);   /* the file may grow meanwhile */
  int err = ferror(f) ? (errno ? errno : EIO) : 0;
  fclose(f);
  if (buf && !err && !too_big) return buf;
  if (buf && too_big && !err) gc_diag_set(d, "%s: larger than %zu bytes, the most accepted here", path, max_len);
  else gc_diag_set(d, "%s: cannot read: %s", path, buf ? strerror(err) : "out of memory");
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

void gc_map_file_done(const void *data, size_t len, size_t off, size_t n) {
  if (!data || off >= len || n == 0) return;
  if (n > len - off) n = len - off;
  /* whole pages, outward: a private read-only mapping of a file is never
   * written, so dropping a neighbour's page only means reading it again */
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), base = (uintptr_t)data;
  uintptr_t lo = (base + off) & ~(page - 1), hi = (base + off + n + page - 1) & ~(page - 1);
  if (lo < base) lo = base;   /* a mapping starts on a page */
  madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

/* ---- temp file names -------------------------------------------------------- */

int gc_temp_name(const char *path, long pid, unsigned serial, char *out, size_t size) {
  int n = snprintf(out, size, "%s.tmp.%ld.%u", path, pid, serial);
  return n >= 0 && (size_t)n < size ? 0 : -1;
}

/* The decimal number ending just before `end` (digits back to `begin`):
 * its first digit in *start; -1 when there is none or it is too long. */
static long number_before(const char *begin, const char *end, const char **start) {
  const char *p = end;
  while (p > begin && p[-1] >= '0' && p[-1] <= '9') p--;
  if (p == end || end - p > 18) return -1;
  long v = 0;
  for (const char *q = p; q < end; q++) v = v * 10 + (*q - '0');
  *start = p;
  return v;
}

long gc_temp_name_parse(const char *name, size_t *base_len) {
  const char *end = name + strlen(name), *p;
  if (number_before(name, end, &p) < 0 || p == name || p[-1] != '.') return 0;   /* .SERIAL */
  long pid = number_before(name, p - 1, &p);
  static const char tag[] = ".tmp.";
  size_t t = sizeof tag - 1;
  if (pid <= 0 || pid > INT32_MAX || (size_t)(p - name) <= t || memcmp(p - t, tag, t) != 0) return 0;
  *base_len = (size_t)(p - t - name);
  return pid;
}

/* Whether process `pid` may still be running (and rename its temp file). */
static bool process_alive(long pid) {
  return pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

int gc_remove_dead_temps(const char *dir, gc_temp_base_fn *ours, void *arg) {
  DIR *dp = opendir(dir);
  if (!dp) return 0;
  int removed = 0;
  size_t dlen = strlen(dir);
  for (struct dirent *e; (e = readdir(dp));) {
    size_t base_len;
    long pid = gc_temp_name_parse(e->d_name, &base_len);
    if (!pid || !ours(e->d_name, base_len, arg) || process_alive(pid)) continue;
    char *path = malloc(dlen + strlen(e->d_name) + 2);
    if (!path) break;
    sprintf(path, "%s/%s", dir, e->d_name);
    removed += unlink(path) == 0;
    free(path);
  }
  closedir(dp);
  return removed;
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

/* What a symlink at `link` points at, as a path from the current directory
 * (a relative target is relative to the link's directory); malloc'd, NULL
 * with errno. */
static char *link_target(const char *link, size_t size_hint) {
  size_t cap = size_hint + 2 > 256 ? size_hint + 2 : 256;
  char *buf = NULL;
  ssize_t n;
  for (;; cap *= 2) {
    free(buf);
    if (!(buf = malloc(cap))) return NULL;
    if ((n = readlink(link, buf, cap)) < 0) return free(buf), NULL;
    if ((size_t)n < cap) break;
  }
  buf[n] = 0;
  const char *slash = strrchr(link, '/');
  if (buf[0] == '/' || !slash) return buf;
  size_t dir_len = (size_t)(slash - link) + 1;
  char *full = malloc(dir_len + (size_t)n + 1);
  if (full) memcpy(full, link, dir_len), memcpy(full + dir_len, buf, (size_t)n + 1);
  free(buf);
  return full;
}

/* The file writing `path` reaches: path, or the end of its chain of
 * symlinks (which need not exist yet).  malloc'd; NULL with errno. */
static char *final_target(const char *path) {
  char *p = strdup(path);
  for (int hops = 0; p; hops++) {
    struct stat st;
    if (lstat(p, &st) != 0 || !S_ISLNK(st.st_mode)) return p;
    char *next = hops < 40 ? link_target(p, (size_t)st.st_size) : (errno = ELOOP, NULL);
    free(p);
    p = next;
  }
  return NULL;
}

/* A device, FIFO or socket: written where it is, never replaced. */
static int write_in_place(const char *path, const char *target, const gc_file_part *parts, int n, gc_diag *d) {
  int fd = open(target, O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return gc_diag_set(d, "cannot write %s: %s", path, strerror(errno));
  int ok = write_parts(fd, parts, n) == 0, err = errno;
  if (close(fd) != 0 && ok) ok = 0, err = errno;
  return ok ? 0 : gc_diag_set(d, "cannot write %s: %s", path, strerror(err));
}

/* A regular file (or none yet): a temp file beside it, renamed over it. */
static int replace(const char *path, const char *target, const gc_file_part *parts, int n, gc_diag *d) {
  size_t size = strlen(target) + 48;
  char *tmp = malloc(size);
  if (!tmp) return gc_diag_set(d, "cannot write %s: out of memory", path);
  /* unique per process and per call: threads may write the same path */
  static atomic_uint serial;
  gc_temp_name(target, (long)getpid(), atomic_fetch_add(&serial, 1), tmp, size);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    gc_diag_set(d, "cannot write %s: cannot create %s: %s", path, tmp, strerror(errno));
    free(tmp);
    return -1;
  }
  int ok = write_parts(fd, parts, n) == 0 && fsync(fd) == 0;
  int err = errno;
  if (close(fd) != 0 && ok) ok = 0, err = errno;
  if (ok && rename(tmp, target) != 0) ok = 0, err = errno;
  if (!ok) {
    unlink(tmp);
    gc_diag_set(d, "cannot write %s: %s", path, strerror(err));
    free(tmp);
    return -1;
  }
  free(tmp);
  fsync_parent_dir(target);
  return 0;
}

int gc_write_file_parts_atomic(const char *path, const gc_file_part *parts, int n, gc_diag *d) {
  char *target = final_target(path);
  if (!target) return gc_diag_set(d, "cannot write %s: %s", path, strerror(errno));
  struct stat st;
  bool special = stat(target, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
  int rc = special ? write_in_place(path, target, parts, n, d) : replace(path, target, parts, n, d);
  free(target);
  return rc;
}

int gc_replace_file_parts(const char *path, const gc_file_part *parts, int n, gc_diag *d) {
  return replace(path, path, parts, n, d);
}

int gc_write_file_atomic(const char *path, const void *data, size_t len, gc_diag *d) {
  gc_file_part part = {data, len};
  return gc_write_file_parts_atomic(path, &part, 1, d);
}
