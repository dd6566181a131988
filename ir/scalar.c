/* gc_scalar_eval: one element of an elementwise op (see scalar.h), as the
 * interpreter computes it: each operand held in its dtype, the math in
 * that dtype, the result converted as a store of dtype `out` and read back
 * as a double. */
#include "ir/scalar.h"

typedef struct {
  float f;
  double d;
  int32_t i;
  int64_t l;
  uint8_t b;
} held;

/* v as a const node of dtype dt holds it. */
static held hold(gc_dtype dt, double v) {
  held h = {0};
  switch (dt) {
  case GC_F32: h.f = (float)v; break;
  case GC_F64: h.d = v; break;
  case GC_I32: h.i = gc_double_to_i32(v); break;
  case GC_I64: h.l = gc_double_to_i64(v); break;
  case GC_BOOL: h.b = v != 0; break;
  default: break;
  }
  return h;
}

static double value(gc_dtype dt, held h) {
  switch (dt) {
  case GC_F32: return h.f;
  case GC_F64: return h.d;
  case GC_I32: return h.i;
  case GC_I64: return (double)h.l;
  case GC_BOOL: return h.b;
  default: return 0;
  }
}

/* an int source's value, for casts and compares */
static int64_t as_int(gc_dtype dt, held h) { return dt == GC_I32 ? h.i : dt == GC_I64 ? h.l : h.b; }

static int cast(gc_dtype from, held x, gc_dtype to, double *result) {
  held y = {0};
  if (from == GC_F32 || from == GC_F64) {
    double v = from == GC_F32 ? (double)x.f : x.d;
    y.f = (float)v, y.d = v, y.i = gc_double_to_i32(v), y.l = gc_double_to_i64(v), y.b = v != 0;
  } else {
    int64_t v = as_int(from, x);
    y.f = (float)v, y.d = (double)v, y.i = gc_wrap_i32(v), y.l = v, y.b = v != 0;
  }
  *result = value(to, y);
  return 0;
}

#define BINARY(OP)                                                  \
  switch (dt) {                                                     \
  case GC_F32: r.f = gc_##OP##_float(a.f, b.f); break;              \
  case GC_F64: r.d = gc_##OP##_double(a.d, b.d); break;             \
  case GC_I32: r.i = gc_##OP##_int32_t(a.i, b.i); break;            \
  case GC_I64: r.l = gc_##OP##_int64_t(a.l, b.l); break;            \
  default: return -1;                                               \
  }                                                                 \
  break

#define COMPARE(OP)                                                            \
  switch (dt) {                                                                \
  case GC_F32: r.b = a.f OP b.f; break;                                        \
  case GC_F64: r.b = a.d OP b.d; break;                                        \
  case GC_I32: case GC_I64: case GC_BOOL: r.b = as_int(dt, a) OP as_int(dt, b); break; \
  default: return -1;                                                          \
  }                                                                            \
  break

int gc_scalar_eval(gc_op op, gc_dtype out, const gc_dtype *in_dtypes, const double *in, int n_in, double *result) {
  if (gc_op_kind(op) != GC_KIND_ELEMENTWISE || n_in < 1 || n_in > 3) return -1;
  gc_dtype dt = in_dtypes[0];
  held a = hold(dt, in[0]), b = n_in > 1 ? hold(in_dtypes[1], in[1]) : a, c = n_in > 2 ? hold(in_dtypes[2], in[2]) : a;
  held r = {0};
  switch (op) {
#define UNARY(ID, name, F32, F64)                          \
  case GC_OP_##ID:                                         \
    if (dt == GC_F32) { float v = a.f; r.f = (F32); }      \
    else if (dt == GC_F64) { double v = a.d; r.d = (F64); } \
    else return -1;                                        \
    break;
    GC_SCALAR_UNARY_FLOAT(UNARY)
#undef UNARY
  case GC_OP_NEG:
    switch (dt) {
    case GC_F32: r.f = -a.f; break;
    case GC_F64: r.d = -a.d; break;
    case GC_I32: r.i = gc_neg_int32_t(a.i); break;
    case GC_I64: r.l = gc_neg_int64_t(a.l); break;
    default: return -1;
    }
    break;
  case GC_OP_ABS:
    switch (dt) {
    case GC_F32: r.f = fabsf(a.f); break;
    case GC_F64: r.d = fabs(a.d); break;
    case GC_I32: r.i = gc_abs_int32_t(a.i); break;
    case GC_I64: r.l = gc_abs_int64_t(a.l); break;
    default: return -1;
    }
    break;
  case GC_OP_ADD: BINARY(add);
  case GC_OP_SUB: BINARY(sub);
  case GC_OP_MUL: BINARY(mul);
  case GC_OP_DIV: BINARY(div);
  case GC_OP_MAX: BINARY(max);
  case GC_OP_MIN: BINARY(min);
  case GC_OP_POW:
    if (dt == GC_F32) r.f = gc_pow_float(a.f, b.f);
    else if (dt == GC_F64) r.d = gc_pow_double(a.d, b.d);
    else return -1;
    break;
  case GC_OP_LT: COMPARE(<);
  case GC_OP_LE: COMPARE(<=);
  case GC_OP_EQ: COMPARE(==);
  case GC_OP_NE: COMPARE(!=);
  case GC_OP_WHERE:
    if (dt != GC_BOOL) return -1;
    *result = value(out, a.b ? b : c);
    return 0;
  case GC_OP_CAST: return cast(dt, a, out, result);
  case GC_OP_STOP_GRADIENT: r = a; break;
  default: return -1;
  }
  *result = value(out, r);
  return 0;
}
