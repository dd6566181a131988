/* io/file.h — whole-file reading and atomic file replacement, the one copy
 * of each that checkpoints, tokenizer files, run logs and the tools use. */
#ifndef GC_IO_FILE_H
#define GC_IO_FILE_H

#include "ir/ir.h"

#include <stdbool.h>
#include <stddef.h>

/* The whole of `path` ("-" reads stdin) in a malloc'd buffer the caller
 * frees; it is NUL-terminated, the NUL not counted in *len.  NULL on failure,
 * with "PATH: reason" in d. */
char *gc_read_file(const char *path, size_t *len, gc_diag *d);

/* As gc_read_file, but a file of more than `max_len` bytes is an error
 * ("PATH: larger than N bytes"), found without reading much past max_len. */
char *gc_read_file_max(const char *path, size_t max_len, size_t *len, gc_diag *d);

/* As gc_read_file_max, but only a regular file, for data a hostile user
 * may have planted (cache entries): a symlink at `path` is not followed, a
 * FIFO or device is refused without waiting on it or reading it ("PATH:
 * cannot open: a symlink, not a regular file", "PATH: cannot read: not a
 * regular file"), and a size above max_len is refused before reading. */
char *gc_read_regular_file(const char *path, size_t max_len, size_t *len, gc_diag *d);

/* The regular file at `path` mapped read-only (large files are not copied);
 * the caller unmaps it with gc_unmap_file(data, *len).  An empty file maps
 * to a valid pointer with *len 0.  NULL on failure, with "PATH: reason" in d
 * (a directory or device is "not a regular file"). */
const void *gc_map_file(const char *path, size_t *len, gc_diag *d);
void gc_unmap_file(const void *data, size_t len);
/* Bytes [off, off+n) of such a mapping are read and done with: the pages
 * holding them leave memory (the process's RSS) now rather than at
 * gc_unmap_file; reading them again reads the file again.  So a large file
 * copied piece by piece is never resident whole beside its copy. */
void gc_map_file_done(const void *data, size_t len, size_t off, size_t n);

/* Replace `path` with `len` bytes atomically: write a temp file beside it
 * (gc_temp_name), fsync it, rename it over path, fsync the directory.  A
 * crash leaves the old file or the new one, never a mix.  What is replaced
 * is what writing `path` reaches: a symlink stays a symlink and its target
 * (at the end of the chain, in the target's own directory) is replaced; a
 * device, FIFO or socket is not replaced but written directly (as `>`
 * would).  0, or -1 with "cannot write PATH: reason" (the temp file
 * removed). */
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

/* gc_write_file_parts_atomic for a file only gc writes (a kernel cache
 * entry): `path` itself becomes a new regular file, whatever was there (a
 * symlink is replaced, not followed; a FIFO or device is replaced, not
 * written into), so that nothing planted there redirects the write. */
int gc_replace_file_parts(const char *path, const gc_file_part *parts, int n, gc_diag *d);

/* ---- temp files ---------------------------------------------------------- */

/* The one format of the writers' temp file names: "PATH.tmp.PID.SERIAL"
 * (SERIAL tells apart the writes of one process).  0, or -1 when out[size]
 * is too small. */
int gc_temp_name(const char *path, long pid, unsigned serial, char *out, size_t size);

/* If `name` (a file name) is one gc_temp_name makes, the PID in it, and in
 * *base_len the length of the name it stands in for ("loss.csv" of
 * "loss.csv.tmp.12.0"); else 0. */
long gc_temp_name_parse(const char *name, size_t *base_len);

/* Whether the temp files of `base` (base_len bytes, not NUL-terminated) are
 * ones the caller cleans up. */
typedef bool gc_temp_base_fn(const char *base, size_t base_len, void *arg);

/* Removes the temp files in `dir` that a crash left: names gc_temp_name
 * makes, of a base `ours` accepts, whose process is gone (a live process,
 * this one included, may still rename its file).  How many were removed. */
int gc_remove_dead_temps(const char *dir, gc_temp_base_fn *ours, void *arg);

#endif
