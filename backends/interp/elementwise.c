/* Elementwise ops: unary, binary, compare, where.  Operands have identical
 * shapes (broadcasting is explicit in the IR), so each is a plain loop, and
 * math runs in the tensor's own dtype (f32 in float).  Integer arithmetic
 * wraps; integer division by zero gives 0 and MIN / -1 gives MIN; max and
 * min propagate NaN. */
#include "backends/interp/kernels.h"

#include <math.h>

static int bad_dtype(const interp_call *c) {
  return interp_node_error(c, "dtype %s is not supported", gc_dtype_name(c->in[0]->type.dtype));
}

/* ---- unary ---- */

static inline float sigmoid_float(float x) {
  if (x >= 0) return 1.0f / (1.0f + expf(-x));
  float e = expf(x);
  return e / (1.0f + e);
}

static inline double sigmoid_double(double x) {
  if (x >= 0) return 1.0 / (1.0 + exp(-x));
  double e = exp(x);
  return e / (1.0 + e);
}

#define UNARY_LOOP(T, EXPR)                                  \
  do {                                                       \
    const T *a_ = c->in[0]->data;                            \
    T *o_ = c->out->data;                                    \
    for (int64_t i = 0; i < n; i++) {                        \
      T v = a_[i];                                           \
      o_[i] = (EXPR);                                        \
    }                                                        \
    return 0;                                                \
  } while (0)

#define UNARY_FLOAT(NAME, F32, F64)                           \
  int interp_kernel_##NAME(const interp_call *c) {            \
    int64_t n = gc_tensor_numel(c->in[0]);                    \
    switch (c->in[0]->type.dtype) {                           \
    case GC_F32: UNARY_LOOP(float, F32);                      \
    case GC_F64: UNARY_LOOP(double, F64);                     \
    default: return bad_dtype(c);                             \
    }                                                         \
  }

UNARY_FLOAT(exp, expf(v), exp(v))
UNARY_FLOAT(log, logf(v), log(v))
UNARY_FLOAT(sqrt, sqrtf(v), sqrt(v))
UNARY_FLOAT(rsqrt, 1.0f / sqrtf(v), 1.0 / sqrt(v))
UNARY_FLOAT(recip, 1.0f / v, 1.0 / v)
UNARY_FLOAT(tanh, tanhf(v), tanh(v))
UNARY_FLOAT(sigmoid, sigmoid_float(v), sigmoid_double(v))
UNARY_FLOAT(erf, erff(v), erf(v))
UNARY_FLOAT(sin, sinf(v), sin(v))
UNARY_FLOAT(cos, cosf(v), cos(v))

/* Integer negation wraps (-INT_MIN is INT_MIN), without undefined behaviour. */
static inline int32_t neg_i32(int32_t v) { return (int32_t)(0u - (uint32_t)v); }
static inline int64_t neg_i64(int64_t v) { return (int64_t)(UINT64_C(0) - (uint64_t)v); }

int interp_kernel_neg(const interp_call *c) {
  int64_t n = gc_tensor_numel(c->in[0]);
  switch (c->in[0]->type.dtype) {
  case GC_F32: UNARY_LOOP(float, -v);
  case GC_F64: UNARY_LOOP(double, -v);
  case GC_I32: UNARY_LOOP(int32_t, neg_i32(v));
  case GC_I64: UNARY_LOOP(int64_t, neg_i64(v));
  default: return bad_dtype(c);
  }
}

int interp_kernel_abs(const interp_call *c) {
  int64_t n = gc_tensor_numel(c->in[0]);
  switch (c->in[0]->type.dtype) {
  case GC_F32: UNARY_LOOP(float, fabsf(v));
  case GC_F64: UNARY_LOOP(double, fabs(v));
  case GC_I32: UNARY_LOOP(int32_t, v < 0 ? neg_i32(v) : v);
  case GC_I64: UNARY_LOOP(int64_t, v < 0 ? neg_i64(v) : v);
  default: return bad_dtype(c);
  }
}

/* ---- binary ---- */

#define FLOAT_OPS(T)                                                                       \
  static inline T add_##T(T a, T b) { return a + b; }                                      \
  static inline T sub_##T(T a, T b) { return a - b; }                                      \
  static inline T mul_##T(T a, T b) { return a * b; }                                      \
  static inline T div_##T(T a, T b) { return a / b; }                                      \
  static inline T max_##T(T a, T b) { return isnan(a) || isnan(b) ? a + b : a > b ? a : b; } \
  static inline T min_##T(T a, T b) { return isnan(a) || isnan(b) ? a + b : a < b ? a : b; }
FLOAT_OPS(float)
FLOAT_OPS(double)
static inline float pow_float(float a, float b) { return powf(a, b); }
static inline double pow_double(double a, double b) { return pow(a, b); }

#define INT_OPS(T, U, MIN)                                                       \
  static inline T add_##T(T a, T b) { return (T)((U)a + (U)b); }                \
  static inline T sub_##T(T a, T b) { return (T)((U)a - (U)b); }                \
  static inline T mul_##T(T a, T b) { return (T)((U)a * (U)b); }                \
  static inline T div_##T(T a, T b) {                                            \
    if (b == 0) return 0;                                                        \
    if (a == MIN && b == -1) return MIN;                                         \
    return a / b;                                                                \
  }                                                                              \
  static inline T max_##T(T a, T b) { return a > b ? a : b; }                    \
  static inline T min_##T(T a, T b) { return a < b ? a : b; }
INT_OPS(int32_t, uint32_t, INT32_MIN)
INT_OPS(int64_t, uint64_t, INT64_MIN)

#define BINARY_LOOP(T, OP)                                       \
  do {                                                           \
    const T *a_ = c->in[0]->data, *b_ = c->in[1]->data;          \
    T *o_ = c->out->data;                                        \
    for (int64_t i = 0; i < n; i++) o_[i] = OP##_##T(a_[i], b_[i]); \
    return 0;                                                    \
  } while (0)

#define BINARY_NUMERIC(OP)                                       \
  int interp_kernel_##OP(const interp_call *c) {                 \
    int64_t n = gc_tensor_numel(c->in[0]);                       \
    switch (c->in[0]->type.dtype) {                              \
    case GC_F32: BINARY_LOOP(float, OP);                         \
    case GC_F64: BINARY_LOOP(double, OP);                        \
    case GC_I32: BINARY_LOOP(int32_t, OP);                       \
    case GC_I64: BINARY_LOOP(int64_t, OP);                       \
    default: return bad_dtype(c);                                \
    }                                                            \
  }

BINARY_NUMERIC(add)
BINARY_NUMERIC(sub)
BINARY_NUMERIC(mul)
BINARY_NUMERIC(div)
BINARY_NUMERIC(max)
BINARY_NUMERIC(min)

int interp_kernel_pow(const interp_call *c) {
  int64_t n = gc_tensor_numel(c->in[0]);
  switch (c->in[0]->type.dtype) {
  case GC_F32: BINARY_LOOP(float, pow);
  case GC_F64: BINARY_LOOP(double, pow);
  default: return bad_dtype(c);
  }
}

/* ---- compare ---- */

#define CMP_LOOP(T, OP, READ)                                              \
  do {                                                                     \
    const T *a_ = c->in[0]->data, *b_ = c->in[1]->data;                    \
    uint8_t *o_ = c->out->data;                                            \
    for (int64_t i = 0; i < n; i++) o_[i] = READ(a_[i]) OP READ(b_[i]);    \
    return 0;                                                              \
  } while (0)

#define AS_IS(v) (v)
#define AS_BOOL(v) ((v) != 0)

#define COMPARE(NAME, OP)                                        \
  int interp_kernel_##NAME(const interp_call *c) {               \
    int64_t n = gc_tensor_numel(c->in[0]);                       \
    switch (c->in[0]->type.dtype) {                              \
    case GC_F32: CMP_LOOP(float, OP, AS_IS);                     \
    case GC_F64: CMP_LOOP(double, OP, AS_IS);                    \
    case GC_I32: CMP_LOOP(int32_t, OP, AS_IS);                   \
    case GC_I64: CMP_LOOP(int64_t, OP, AS_IS);                   \
    case GC_BOOL: CMP_LOOP(uint8_t, OP, AS_BOOL);                \
    default: return bad_dtype(c);                                \
    }                                                            \
  }

COMPARE(lt, <)
COMPARE(le, <=)
COMPARE(eq, ==)
COMPARE(ne, !=)

/* ---- where ---- */

#define WHERE_LOOP(T)                                                    \
  do {                                                                   \
    const uint8_t *p_ = c->in[0]->data;                                  \
    const T *a_ = c->in[1]->data, *b_ = c->in[2]->data;                  \
    T *o_ = c->out->data;                                                \
    for (int64_t i = 0; i < n; i++) o_[i] = p_[i] ? a_[i] : b_[i];       \
    return 0;                                                            \
  } while (0)

int interp_kernel_where(const interp_call *c) {
  int64_t n = gc_tensor_numel(c->out);
  switch (gc_dtype_size(c->out->type.dtype)) {
  case 1: WHERE_LOOP(uint8_t);
  case 4: WHERE_LOOP(uint32_t);
  case 8: WHERE_LOOP(uint64_t);
  default: return bad_dtype(c);
  }
}
