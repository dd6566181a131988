/* gather and scatter_add, with ONNX semantics.  Viewing the table (for
 * scatter_add: the result) as [outer, size, inner] around `axis`, and the
 * other side as [outer, n_idx, inner]:
 *   gather       out[o, j, r]  = table[o, idx[j], r]
 *   scatter_add  out[o, idx[j], r] += src[o, j, r]     (out starts at zero)
 * An index may be negative down to -size (counting from the end); anything
 * outside [-size, size-1] is an error naming the node, checked before any
 * element is touched. */
#include "backends/interp/kernels.h"

#include <string.h>

typedef struct {
  int64_t outer, size, inner, n_idx;
} index_view;

static index_view view_of(const gc_type *table, int64_t axis, const gc_tensor *idx) {
  index_view v = {1, table->dims[axis], 1, gc_tensor_numel(idx)};
  for (int i = 0; i < axis; i++) v.outer *= table->dims[i];
  for (int i = (int)axis + 1; i < table->rank; i++) v.inner *= table->dims[i];
  return v;
}

static int64_t index_at(const gc_tensor *idx, int64_t j) {
  if (idx->type.dtype == GC_I32) return ((const int32_t *)idx->data)[j];
  return ((const int64_t *)idx->data)[j];
}

/* Every index in range, or an error naming the first bad one. */
static int check_indices(const interp_call *c, const gc_tensor *idx, int64_t axis, int64_t size) {
  if (idx->type.dtype != GC_I32 && idx->type.dtype != GC_I64)
    return interp_node_error(c, "indices must be i32 or i64, got %s", gc_dtype_name(idx->type.dtype));
  int64_t n = gc_tensor_numel(idx);
  for (int64_t j = 0; j < n; j++) {
    int64_t v = index_at(idx, j);
    if (v < -size || v >= size)
      return interp_node_error(c,
                               "index %lld (element %lld of the indices) is out of range [%lld, %lld] "
                               "for axis %lld of size %lld",
                               (long long)v, (long long)j, (long long)-size, (long long)(size - 1),
                               (long long)axis, (long long)size);
  }
  return 0;
}

static int64_t normalized(const gc_tensor *idx, int64_t j, int64_t size) {
  int64_t v = index_at(idx, j);
  return v < 0 ? v + size : v;
}

int interp_kernel_gather(const interp_call *c) {
  const gc_tensor *table = c->in[0], *idx = c->in[1];
  int64_t axis = c->node->attrs.axis.axis;
  index_view v = view_of(&table->type, axis, idx);
  if (check_indices(c, idx, axis, v.size)) return -1;
  size_t es = gc_dtype_size(table->type.dtype), row = (size_t)v.inner * es;
  char *out = c->out->data;
  const char *src = table->data;
  for (int64_t o = 0; o < v.outer; o++)
    for (int64_t j = 0; j < v.n_idx; j++) {
      int64_t at = normalized(idx, j, v.size);
      memcpy(out + (size_t)(o * v.n_idx + j) * row, src + (size_t)(o * v.size + at) * row, row);
    }
  return 0;
}

static inline float add_f32(float a, float b) { return a + b; }
static inline double add_f64(double a, double b) { return a + b; }
static inline int32_t add_i32(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static inline int64_t add_i64(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }

#define SCATTER_LOOP(T, ADD)                                                   \
  do {                                                                         \
    const T *s_ = src->data;                                                   \
    T *o_ = c->out->data;                                                      \
    for (int64_t o = 0; o < v.outer; o++)                                      \
      for (int64_t j = 0; j < v.n_idx; j++) {                                  \
        T *dst = o_ + (o * v.size + normalized(idx, j, v.size)) * v.inner;     \
        const T *from = s_ + (o * v.n_idx + j) * v.inner;                      \
        for (int64_t r = 0; r < v.inner; r++) dst[r] = ADD(dst[r], from[r]);   \
      }                                                                        \
    return 0;                                                                  \
  } while (0)

int interp_kernel_scatter_add(const interp_call *c) {
  const gc_tensor *idx = c->in[0], *src = c->in[1];
  int64_t axis = c->node->attrs.axis.axis;
  index_view v = view_of(&c->out->type, axis, idx);
  if (check_indices(c, idx, axis, v.size)) return -1;
  switch (c->out->type.dtype) {   /* the output starts zeroed */
  case GC_F32: SCATTER_LOOP(float, add_f32);
  case GC_F64: SCATTER_LOOP(double, add_f64);
  case GC_I32: SCATTER_LOOP(int32_t, add_i32);
  case GC_I64: SCATTER_LOOP(int64_t, add_i64);
  default:
    return interp_node_error(c, "dtype %s is not supported", gc_dtype_name(c->out->type.dtype));
  }
}
