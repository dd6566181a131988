/* cast: dtype conversion with a defined result for every value.
 *   float -> int   truncates toward zero, saturates at the int range, NaN -> 0
 *   int -> int     wraps (two's complement), as numpy's astype
 *   x -> bool      x != 0;  bool -> x is 0 or 1
 * Float sources convert through double (exact for f32), int sources through
 * int64 (so i64 -> f32 rounds once).  The conversions are ir/scalar.h's,
 * which constant folding shares. */
#include "backends/interp/kernels.h"
#include "ir/scalar.h"

#include <math.h>

static inline float d_f32(double v) { return (float)v; }
static inline double d_f64(double v) { return v; }
static inline uint8_t d_bool(double v) { return v != 0; }
static inline float i_f32(int64_t v) { return (float)v; }
static inline double i_f64(int64_t v) { return (double)v; }
static inline int32_t i_i32(int64_t v) { return gc_wrap_i32(v); }
static inline int64_t i_i64(int64_t v) { return v; }
static inline uint8_t i_bool(int64_t v) { return v != 0; }

/* Bool sources are read as 0/1 whatever byte is stored. */
static inline int64_t b_int(uint8_t v) { return v != 0; }
static inline int64_t i32_int(int32_t v) { return v; }
static inline int64_t i64_int(int64_t v) { return v; }

#define CAST_LOOP(ST, DT, CONV, READ)                                  \
  do {                                                                 \
    const ST *s_ = x->data;                                            \
    DT *o_ = y->data;                                                  \
    for (int64_t i = 0; i < n; i++) o_[i] = CONV(READ(s_[i]));         \
  } while (0)

#define FROM_FLOAT(ST)                                                              \
  switch (y->type.dtype) {                                                          \
  case GC_F32: CAST_LOOP(ST, float, d_f32, (double)); return 0;                     \
  case GC_F64: CAST_LOOP(ST, double, d_f64, (double)); return 0;                    \
  case GC_I32: CAST_LOOP(ST, int32_t, gc_double_to_i32, (double)); return 0;    \
  case GC_I64: CAST_LOOP(ST, int64_t, gc_double_to_i64, (double)); return 0;    \
  case GC_BOOL: CAST_LOOP(ST, uint8_t, d_bool, (double)); return 0;                 \
  default: break;                                                                   \
  }

#define FROM_INT(ST, READ)                                        \
  switch (y->type.dtype) {                                        \
  case GC_F32: CAST_LOOP(ST, float, i_f32, READ); return 0;       \
  case GC_F64: CAST_LOOP(ST, double, i_f64, READ); return 0;      \
  case GC_I32: CAST_LOOP(ST, int32_t, i_i32, READ); return 0;     \
  case GC_I64: CAST_LOOP(ST, int64_t, i_i64, READ); return 0;     \
  case GC_BOOL: CAST_LOOP(ST, uint8_t, i_bool, READ); return 0;   \
  default: break;                                                 \
  }

int interp_kernel_cast(const interp_call *c) {
  const gc_tensor *x = c->in[0];
  gc_tensor *y = c->out;
  int64_t n = gc_tensor_numel(x);
  switch (x->type.dtype) {
  case GC_F32: FROM_FLOAT(float); break;
  case GC_F64: FROM_FLOAT(double); break;
  case GC_I32: FROM_INT(int32_t, i32_int); break;
  case GC_I64: FROM_INT(int64_t, i64_int); break;
  case GC_BOOL: FROM_INT(uint8_t, b_int); break;
  default: break;
  }
  return interp_node_error(c, "cannot cast %s to %s", gc_dtype_name(x->type.dtype),
                           gc_dtype_name(y->type.dtype));
}

void interp_fill(gc_tensor *t, double v) {
  int64_t n = gc_tensor_numel(t);
  switch (t->type.dtype) {
  case GC_F32: for (int64_t i = 0; i < n; i++) ((float *)t->data)[i] = (float)v; break;
  case GC_F64: for (int64_t i = 0; i < n; i++) ((double *)t->data)[i] = v; break;
  case GC_I32: {
    int32_t x = gc_double_to_i32(v);
    for (int64_t i = 0; i < n; i++) ((int32_t *)t->data)[i] = x;
    break;
  }
  case GC_I64: {
    int64_t x = gc_double_to_i64(v);
    for (int64_t i = 0; i < n; i++) ((int64_t *)t->data)[i] = x;
    break;
  }
  case GC_BOOL: for (int64_t i = 0; i < n; i++) ((uint8_t *)t->data)[i] = v != 0; break;
  default: break;
  }
}
