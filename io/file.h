/* io/file.h — whole-file reading and atomic file replacement, the one copy
 * of each that checkpoints, tokenizer files, run logs and the tools use. */
#ifndef GC_IO_FILE_H
#define GC_IO_FILE_H

#include "ir/ir.h"

#include <stddef.h>

/* The whole of `path` ("-" reads stdin) in a malloc'd buffer the caller
 * frees; it is NUL-terminated, the NUL not counted in *len.  NULL on failure,
 * with "PATH: reason" in d. */
char *gc_read_file(const char *path, size_t *len, gc_diag *d);

/* As gc_read_file, but a file of more than `max_len` bytes is an error
 * ("PATH: larger than N bytes"), found without reading much past max_len. */
char *gc_read_file_max(const char *path, size_t max_len, size_t *len, gc_diag *d);

/* The regular file at `path` mapped read-only (large files are not copied);
 * the caller unmaps it with gc_unmap_file(data, *len).  An empty file maps
 * to a valid pointer with *len 0.  NULL on failure, with "PATH: reason" in d
 * (a directory or device is "not a regular file"). */
const void *gc_map_file(const char *path, size_t *len, gc_diag *d);
void gc_unmap_file(const void *data, size_t len);

/* Replace `path` with `len` bytes atomically: write PATH.tmp.PID, fsync it,
 * rename it over path, fsync the directory.  A crash leaves the old file or
 * the new one, never a mix.  0, or -1 with "cannot write PATH: reason" (the
 * temp file removed). */
int gc_write_file_atomic(const char *path, const void *data, size_t len, gc_diag *d);

/* One piece of a file: `len` bytes at `data` (which may be NULL when len is
 * 0).  The caller keeps ownership. */
typedef struct {
  const void *data;
  size_t len;
} gc_file_part;

/* gc_write_file_atomic of the `n` parts one after another, so that a large
 * file (a checkpoint) need not first be copied into one buffer. */
int gc_write_file_parts_atomic(const char *path, const gc_file_part *parts, int n, gc_diag *d);

#endif
