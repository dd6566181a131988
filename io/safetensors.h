/* io/safetensors.h — reading and writing safetensors files.
 *
 * Format: an 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON
 * (an object mapping each tensor name to {"dtype", "shape", "data_offsets":
 * [begin, end]}, plus an optional "__metadata__" object of string→string),
 * then the raw little-endian data; offsets count from the start of the data.
 *
 * Reading accepts F32, F64, I32, I64 and BOOL as they are, and also F16 and
 * BF16 (what real Hugging Face checkpoints hold), which are converted to f32
 * on read.  BOOL bytes other than 0 read as 1.  "__metadata__" is validated
 * and dropped.  The header is parsed by jansson; offsets and dims are read
 * as 64-bit integers.  A malformed file is an error naming the tensor where
 * there is one: a header length beyond the file or above 100 MB, bad JSON
 * (with its byte offset), a header that is not an object, a key given twice
 * (a tensor name, or a key inside an entry or the metadata), missing or
 * mistyped keys, an unknown dtype, a shape with negative, non-integer or
 * overflowing dims or rank > GC_MAX_RANK, an integer beyond int64, offsets
 * out of range, reversed, overlapping another tensor's, with gaps, or not
 * holding numel × dtype size bytes, truncated data.
 *
 * Writing stores F32, F64, I32, I64, BOOL tensors in map order, the header
 * padded with spaces so the data starts 8-byte aligned, no metadata.  The
 * file is replaced atomically by gc_write_file_parts_atomic (io/file.h:
 * a temp file named by gc_temp_name, fsync'd, renamed, the directory
 * fsync'd; a symlink's target replaced, a device written in place); the tensors' data
 * is written from where it lies, not copied.
 *
 * Ownership: `out` must be an initialised map (gc_tensor_map_init).  On
 * success the file's tensors are added to it in header order (a tensor of
 * the same name already there is replaced and freed); on failure `out` is
 * left unchanged.  The caller owns the map and clears it.  Every function
 * returns 0, or -1 with a message in `d` (which may be NULL). */
#ifndef GC_SAFETENSORS_H
#define GC_SAFETENSORS_H

#include "ir/tensor.h"

/* Largest header accepted, as in the reference implementation. */
#define GC_SAFETENSORS_MAX_HEADER 100000000u

/* The whole file image in `buf` (len bytes); `buf` is only read. */
int gc_safetensors_parse(const void *buf, size_t len, gc_tensor_map *out, gc_diag *d);
/* Reads the file at `path`: memory-mapped, each tensor copied once, its
 * pages of the file leaving memory as soon as it is (gc_map_file_done), so
 * a large checkpoint is never resident twice.  Error messages start with
 * the path. */
int gc_safetensors_read(const char *path, gc_tensor_map *out, gc_diag *d);
/* Writes every tensor of `m` to `path`, atomically. */
int gc_safetensors_write(const char *path, const gc_tensor_map *m, gc_diag *d);

#endif
