/* Reductions: reduce_sum, reduce_max over a set of axes, argmax along one.
 * The input is walked once in order, row by row (its last dim); each element
 * goes to the output element its kept coordinates address (stride 0 on the
 * reduced axes).  Sums accumulate in the tensor's dtype (ints wrap), except
 * f32 sums, which accumulate in double and round once; max
 * propagates NaN and starts from -inf (ints: the type's minimum). */
#include "backends/interp/kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  int rank;                          /* >= 1: a scalar is walked as [1] */
  int64_t dims[GC_MAX_RANK];
  int64_t out_strides[GC_MAX_RANK];  /* per input dim; 0 where reduced */
  int64_t idx[GC_MAX_RANK];
  int64_t out_offset;                /* of the current row's first element */
  int64_t in_offset;
} row_walk;

/* The output's layout is the same with or without keepdims' 1s. */
static void walk_init(row_walk *w, const gc_type *x, const gc_ilist *axes) {
  bool reduced[GC_MAX_RANK] = {false};
  gc_type kept;
  int64_t ks[GC_MAX_RANK];
  memset(w, 0, sizeof *w);
  memset(&kept, 0, sizeof kept);
  for (int i = 0; i < axes->n; i++) reduced[axes->v[i]] = true;
  for (int i = 0; i < x->rank; i++) kept.dims[kept.rank++] = reduced[i] ? 1 : x->dims[i];
  interp_strides(&kept, ks);
  w->rank = x->rank ? x->rank : 1;
  w->dims[0] = 1;
  for (int i = 0; i < x->rank; i++) {
    w->dims[i] = x->dims[i];
    w->out_strides[i] = reduced[i] ? 0 : ks[i];
  }
}

/* Advance to the next row; false after the last one. */
static bool walk_next(row_walk *w) {
  int last = w->rank - 1;
  w->in_offset += w->dims[last];
  for (int k = last - 1; k >= 0; k--) {
    w->out_offset += w->out_strides[k];
    if (++w->idx[k] < w->dims[k]) return true;
    w->out_offset -= w->out_strides[k] * w->dims[k];
    w->idx[k] = 0;
  }
  return false;
}

static bool walk_empty(const row_walk *w) {
  for (int i = 0; i < w->rank; i++)
    if (w->dims[i] == 0) return true;
  return false;
}

#define REDUCE_LOOP(T, COMBINE)                                                  \
  do {                                                                           \
    const T *x_ = c->in[0]->data;                                                \
    T *o_ = c->out->data;                                                        \
    int64_t len_ = w.dims[w.rank - 1], s_ = w.out_strides[w.rank - 1];           \
    if (walk_empty(&w)) return 0;                                                \
    do {                                                                         \
      for (int64_t j = 0; j < len_; j++) {                                       \
        T *acc = &o_[w.out_offset + j * s_];                                     \
        *acc = COMBINE(*acc, x_[w.in_offset + j]);                               \
      }                                                                          \
    } while (walk_next(&w));                                                     \
    return 0;                                                                    \
  } while (0)

static inline double sum_f64(double a, double b) { return a + b; }
static inline int32_t sum_i32(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static inline int64_t sum_i64(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }

static inline float max_f32(float acc, float v) { return v > acc || isnan(v) ? v : acc; }
static inline double max_f64(double acc, double v) { return v > acc || isnan(v) ? v : acc; }
static inline int32_t max_i32(int32_t acc, int32_t v) { return v > acc ? v : acc; }
static inline int64_t max_i64(int64_t acc, int64_t v) { return v > acc ? v : acc; }

/* f32 sums in double, rounded once at the end: the oracle's f32 results are
 * then as close to exact as f32 allows, whatever the summation order. */
static int reduce_sum_f32(const interp_call *c, row_walk w) {
  int64_t n = gc_tensor_numel(c->out);
  double *acc = c->scratch;   /* n doubles: interp_scratch_bytes */
  for (int64_t i = 0; i < n; i++) acc[i] = 0;
  const float *x = c->in[0]->data;
  int64_t len = w.dims[w.rank - 1], s = w.out_strides[w.rank - 1];
  if (!walk_empty(&w)) do {
      for (int64_t j = 0; j < len; j++) acc[w.out_offset + j * s] += x[w.in_offset + j];
    } while (walk_next(&w));
  float *o = c->out->data;
  for (int64_t i = 0; i < n; i++) o[i] = (float)acc[i];
  return 0;
}

static int bad_dtype(const interp_call *c) {
  return interp_node_error(c, "dtype %s is not supported", gc_dtype_name(c->in[0]->type.dtype));
}

int interp_kernel_reduce_sum(const interp_call *c) {
  const gc_attrs_reduce *r = &c->node->attrs.reduce;
  row_walk w;
  walk_init(&w, &c->in[0]->type, &r->axes);
  switch (c->in[0]->type.dtype) {   /* the output starts zeroed */
  case GC_F32: return reduce_sum_f32(c, w);
  case GC_F64: REDUCE_LOOP(double, sum_f64);
  case GC_I32: REDUCE_LOOP(int32_t, sum_i32);
  case GC_I64: REDUCE_LOOP(int64_t, sum_i64);
  default: return bad_dtype(c);
  }
}

int interp_kernel_reduce_max(const interp_call *c) {
  const gc_attrs_reduce *r = &c->node->attrs.reduce;
  gc_dtype dt = c->in[0]->type.dtype;
  row_walk w;
  walk_init(&w, &c->in[0]->type, &r->axes);
  /* the lowest value of the dtype: -2^63 converts to INT64_MIN exactly */
  interp_fill(c->out, gc_dtype_is_float(dt) ? -INFINITY : dt == GC_I32 ? INT32_MIN : -0x1p63);
  switch (dt) {
  case GC_F32: REDUCE_LOOP(float, max_f32);
  case GC_F64: REDUCE_LOOP(double, max_f64);
  case GC_I32: REDUCE_LOOP(int32_t, max_i32);
  case GC_I64: REDUCE_LOOP(int64_t, max_i64);
  default: return bad_dtype(c);
  }
}

/* First maximal index along the axis; a NaN counts as maximal (the first one
 * wins, so the scan stops at it).  An empty axis gives 0. */
#define IS_NAN(v) ((v) != (v))   /* false for ints */
#define ARGMAX_LOOP(T)                                                        \
  do {                                                                        \
    const T *x_ = c->in[0]->data;                                             \
    for (int64_t o = 0; o < outer; o++)                                       \
      for (int64_t j = 0; j < inner; j++) {                                   \
        const T *p = x_ + o * len * inner + j;                                \
        T best = p[0];                                                        \
        int64_t at = 0;                                                       \
        for (int64_t k = 1; k < len && !IS_NAN(best); k++)                    \
          if (p[k * inner] > best || IS_NAN(p[k * inner])) {                  \
            best = p[k * inner];                                              \
            at = k;                                                           \
          }                                                                   \
        out[o * inner + j] = at;                                              \
      }                                                                       \
    return 0;                                                                 \
  } while (0)

int interp_kernel_argmax(const interp_call *c) {
  const gc_type *x = &c->in[0]->type;
  int64_t axis = c->node->attrs.argmax.axis, outer = 1, inner = 1, len = x->dims[axis];
  int64_t *out = c->out->data;
  for (int i = 0; i < axis; i++) outer *= x->dims[i];
  for (int i = (int)axis + 1; i < x->rank; i++) inner *= x->dims[i];
  if (len == 0) return 0;   /* the output starts zeroed */
  switch (x->dtype) {
  case GC_F32: ARGMAX_LOOP(float);
  case GC_F64: ARGMAX_LOOP(double);
  case GC_I32: ARGMAX_LOOP(int32_t);
  case GC_I64: ARGMAX_LOOP(int64_t);
  default: return bad_dtype(c);
  }
}
