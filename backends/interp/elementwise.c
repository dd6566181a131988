/* Elementwise ops: unary, binary, compare, where.  Operands have identical
 * shapes (broadcasting is explicit in the IR), so each is a plain loop, and
 * math runs in the tensor's own dtype (f32 in float).  What one element
 * computes is ir/scalar.h's, which constant folding shares: integer
 * arithmetic wraps; integer division by zero gives 0 and MIN / -1 gives
 * MIN; max and min propagate NaN. */
#include "backends/interp/kernels.h"
#include "ir/scalar.h"

#include <math.h>

static int bad_dtype(const interp_call *c) {
  return interp_node_error(c, "dtype %s is not supported", gc_dtype_name(c->in[0]->type.dtype));
}

/* ---- unary ---- */

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

#define UNARY_FROM_SCALAR(ID, name, F32, F64) UNARY_FLOAT(name, F32, F64)
GC_SCALAR_UNARY_FLOAT(UNARY_FROM_SCALAR)
#undef UNARY_FROM_SCALAR

int interp_kernel_neg(const interp_call *c) {
  int64_t n = gc_tensor_numel(c->in[0]);
  switch (c->in[0]->type.dtype) {
  case GC_F32: UNARY_LOOP(float, -v);
  case GC_F64: UNARY_LOOP(double, -v);
  case GC_I32: UNARY_LOOP(int32_t, gc_neg_int32_t(v));
  case GC_I64: UNARY_LOOP(int64_t, gc_neg_int64_t(v));
  default: return bad_dtype(c);
  }
}

int interp_kernel_abs(const interp_call *c) {
  int64_t n = gc_tensor_numel(c->in[0]);
  switch (c->in[0]->type.dtype) {
  case GC_F32: UNARY_LOOP(float, fabsf(v));
  case GC_F64: UNARY_LOOP(double, fabs(v));
  case GC_I32: UNARY_LOOP(int32_t, gc_abs_int32_t(v));
  case GC_I64: UNARY_LOOP(int64_t, gc_abs_int64_t(v));
  default: return bad_dtype(c);
  }
}

/* ---- binary ---- */

#define BINARY_LOOP(T, OP)                                       \
  do {                                                           \
    const T *a_ = c->in[0]->data, *b_ = c->in[1]->data;          \
    T *o_ = c->out->data;                                        \
    for (int64_t i = 0; i < n; i++) o_[i] = gc_##OP##_##T(a_[i], b_[i]); \
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
