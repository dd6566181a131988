/* `mkdir -p` (see mkdirs.h). */
#include "backends/llvm/mkdirs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int make_one(const char *path) {
  if (mkdir(path, 0755) == 0) return 0;
  int err = errno;
  struct stat st;
  if (err == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return 0;
  errno = err == EEXIST ? ENOTDIR : err;
  return -1;
}

int gc_mkdirs(const char *path, gc_diag *d) {
  if (!path || !*path) return gc_diag_set(d, "cannot create a directory with an empty name");
  char *p = strdup(path);
  if (!p) return gc_diag_set(d, "cannot create %s: out of memory", path);
  int rc = 0;
  for (char *s = p + 1; *s && rc == 0; s++) {
    if (*s != '/') continue;
    *s = 0;
    rc = make_one(p);
    *s = '/';
  }
  if (rc == 0) rc = make_one(p);
  if (rc) gc_diag_set(d, "cannot create %s: %s", path, strerror(errno));
  free(p);
  return rc;
}
