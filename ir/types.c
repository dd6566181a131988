/* dtypes, types and diagnostics. */
#include "ir.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const dtype_names[GC_DTYPE_COUNT] = {"f32", "f64", "i32", "i64", "bool"};
static const size_t dtype_sizes[GC_DTYPE_COUNT] = {4, 8, 4, 8, 1};

const char *gc_dtype_name(gc_dtype dt) {
  return (unsigned)dt < GC_DTYPE_COUNT ? dtype_names[dt] : "?";
}

int gc_dtype_parse(const char *s, size_t len) {
  for (int i = 0; i < GC_DTYPE_COUNT; i++)
    if (strlen(dtype_names[i]) == len && memcmp(dtype_names[i], s, len) == 0) return i;
  return -1;
}

size_t gc_dtype_size(gc_dtype dt) { return (unsigned)dt < GC_DTYPE_COUNT ? dtype_sizes[dt] : 0; }
bool gc_dtype_is_float(gc_dtype dt) { return dt == GC_F32 || dt == GC_F64; }
bool gc_dtype_is_int(gc_dtype dt) { return dt == GC_I32 || dt == GC_I64; }

gc_type gc_type_make(gc_dtype dt, int rank, const int64_t *dims) {
  gc_type t;
  memset(&t, 0, sizeof t);
  t.dtype = dt;
  t.rank = rank;
  for (int i = 0; i < rank && i < GC_MAX_RANK; i++) t.dims[i] = dims[i];
  return t;
}

bool gc_shape_equal(const gc_type *a, const gc_type *b) {
  if (a->rank != b->rank) return false;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return false;
  return true;
}

bool gc_type_equal(const gc_type *a, const gc_type *b) {
  return a->dtype == b->dtype && gc_shape_equal(a, b);
}

bool gc_type_numel(const gc_type *t, int64_t *out) {
  int64_t n = 1;
  if (t->rank < 0 || t->rank > GC_MAX_RANK) return false;
  for (int i = 0; i < t->rank; i++) {
    int64_t d = t->dims[i];
    if (d < 0) return false;
    if (d != 0 && n > INT64_MAX / d) return false;
    n *= d;
  }
  /* Keep byte counts representable too. */
  if (n > INT64_MAX / 8) return false;
  *out = n;
  return true;
}

int64_t gc_type_numel_unchecked(const gc_type *t) {
  int64_t n = 1;
  for (int i = 0; i < t->rank; i++) n *= t->dims[i];
  return n;
}

char *gc_type_str(const gc_type *t, char *buf, size_t size) {
  size_t k = 0;
  if (size == 0) return buf;
  k += (size_t)snprintf(buf, size, "%s[", gc_dtype_name(t->dtype));
  for (int i = 0; i < t->rank && k < size; i++)
    k += (size_t)snprintf(buf + k, size - k, "%s%lld", i ? "," : "", (long long)t->dims[i]);
  if (k < size) snprintf(buf + k, size - k, "]");
  return buf;
}

int gc_diag_set(gc_diag *d, const char *fmt, ...) {
  if (d) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof d->msg, fmt, ap);
    va_end(ap);
  }
  return -1;
}
