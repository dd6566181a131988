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

/* Replace `path` with `len` bytes atomically: write PATH.tmp.PID, fsync it,
 * rename it over path, fsync the directory.  A crash leaves the old file or
 * the new one, never a mix.  0, or -1 with a message (the temp file removed). */
int gc_write_file_atomic(const char *path, const void *data, size_t len, gc_diag *d);

#endif
