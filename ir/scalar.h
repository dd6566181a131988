/* ir/scalar.h — what one element of an elementwise op computes, in the
 * operands' own dtype (f32 math in float): the semantics the interpreter's
 * loops (backends/interp/elementwise.c, cast.c) and constant folding
 * (passes/simplify.c, through gc_scalar_eval) share, so that a folded
 * constant is bitwise what the interpreter computes.
 *
 * Integer arithmetic wraps; integer division by zero gives 0 and MIN / -1
 * gives MIN; max and min propagate NaN.  Casts: float -> int truncates
 * toward zero, saturates at the int range, NaN -> 0; int -> int wraps;
 * x -> bool is x != 0. */
#ifndef GC_IR_SCALAR_H
#define GC_IR_SCALAR_H

#include "ir/ir.h"

#include <math.h>
#include <stdint.h>

/* ---- unary, float ---- */
static inline float gc_sigmoid_float(float x) {
  if (x >= 0) return 1.0f / (1.0f + expf(-x));
  float e = expf(x);
  return e / (1.0f + e);
}
static inline double gc_sigmoid_double(double x) {
  if (x >= 0) return 1.0 / (1.0 + exp(-x));
  double e = exp(x);
  return e / (1.0 + e);
}
/* GC_SCALAR_UNARY_FLOAT(X): X(ID, name, f32 expression of v, f64
 * expression of v) for every unary float op. */
#define GC_SCALAR_UNARY_FLOAT(X)                                   \
  X(EXP, exp, expf(v), exp(v))                                     \
  X(LOG, log, logf(v), log(v))                                     \
  X(SQRT, sqrt, sqrtf(v), sqrt(v))                                 \
  X(RSQRT, rsqrt, 1.0f / sqrtf(v), 1.0 / sqrt(v))                  \
  X(RECIP, recip, 1.0f / v, 1.0 / v)                               \
  X(TANH, tanh, tanhf(v), tanh(v))                                 \
  X(SIGMOID, sigmoid, gc_sigmoid_float(v), gc_sigmoid_double(v))   \
  X(ERF, erf, erff(v), erf(v))                                     \
  X(SIN, sin, sinf(v), sin(v))                                     \
  X(COS, cos, cosf(v), cos(v))

/* Integer negation wraps (-INT_MIN is INT_MIN), without undefined behaviour. */
static inline int32_t gc_neg_int32_t(int32_t v) { return (int32_t)(0u - (uint32_t)v); }
static inline int64_t gc_neg_int64_t(int64_t v) { return (int64_t)(UINT64_C(0) - (uint64_t)v); }
static inline int32_t gc_abs_int32_t(int32_t v) { return v < 0 ? gc_neg_int32_t(v) : v; }
static inline int64_t gc_abs_int64_t(int64_t v) { return v < 0 ? gc_neg_int64_t(v) : v; }

/* ---- binary: gc_<op>_<T>(a, b) for T float, double, int32_t, int64_t ---- */
#define GC_SCALAR_FLOAT_OPS(T)                                                                  \
  static inline T gc_add_##T(T a, T b) { return a + b; }                                        \
  static inline T gc_sub_##T(T a, T b) { return a - b; }                                        \
  static inline T gc_mul_##T(T a, T b) { return a * b; }                                        \
  static inline T gc_div_##T(T a, T b) { return a / b; }                                        \
  static inline T gc_max_##T(T a, T b) { return isnan(a) || isnan(b) ? a + b : a > b ? a : b; } \
  static inline T gc_min_##T(T a, T b) { return isnan(a) || isnan(b) ? a + b : a < b ? a : b; }
GC_SCALAR_FLOAT_OPS(float)
GC_SCALAR_FLOAT_OPS(double)
static inline float gc_pow_float(float a, float b) { return powf(a, b); }
static inline double gc_pow_double(double a, double b) { return pow(a, b); }

#define GC_SCALAR_INT_OPS(T, U, MIN)                                            \
  static inline T gc_add_##T(T a, T b) { return (T)((U)a + (U)b); }            \
  static inline T gc_sub_##T(T a, T b) { return (T)((U)a - (U)b); }            \
  static inline T gc_mul_##T(T a, T b) { return (T)((U)a * (U)b); }            \
  static inline T gc_div_##T(T a, T b) {                                        \
    if (b == 0) return 0;                                                       \
    if (a == MIN && b == -1) return MIN;                                        \
    return a / b;                                                               \
  }                                                                             \
  static inline T gc_max_##T(T a, T b) { return a > b ? a : b; }                \
  static inline T gc_min_##T(T a, T b) { return a < b ? a : b; }
GC_SCALAR_INT_OPS(int32_t, uint32_t, INT32_MIN)
GC_SCALAR_INT_OPS(int64_t, uint64_t, INT64_MIN)

/* ---- casts ---- */
static inline int32_t gc_double_to_i32(double v) {
  if (isnan(v)) return 0;
  if (v <= (double)INT32_MIN) return INT32_MIN;
  if (v >= (double)INT32_MAX) return INT32_MAX;
  return (int32_t)v;
}
static inline int64_t gc_double_to_i64(double v) {
  if (isnan(v)) return 0;
  if (v <= -9223372036854775808.0) return INT64_MIN;
  if (v >= 9223372036854775808.0) return INT64_MAX;
  return (int64_t)v;
}
static inline int32_t gc_wrap_i32(int64_t v) { return (int32_t)(uint32_t)(uint64_t)v; }

/* One element of elementwise op `op`: operands in[k] of dtypes
 * in_dtypes[k], each first held as a const node of its dtype holds it
 * (rounded to f32, saturated to an int, 0/1 for bool), the result of dtype
 * `out` in *result.  0, or -1 when op is not elementwise or takes no such
 * dtypes. */
int gc_scalar_eval(gc_op op, gc_dtype out, const gc_dtype *in_dtypes, const double *in, int n_in, double *result);

#endif
