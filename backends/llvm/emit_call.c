/* A scalar call in generated code (emit_call.h). */
#include "backends/llvm/emit_call.h"

static LLVMTypeRef type_of(LLVMContextRef ctx, gc_dtype dt) {
  switch (dt) {
  case GC_F32: return LLVMFloatTypeInContext(ctx);
  case GC_F64: return LLVMDoubleTypeInContext(ctx);
  case GC_I32: return LLVMInt32TypeInContext(ctx);
  case GC_BOOL: return LLVMInt1TypeInContext(ctx);
  default: return LLVMInt64TypeInContext(ctx);
  }
}

/* x of dtype `from` as dtype `to`, as C converts (a float to an integer
 * truncates toward zero; a bool is 0 or 1). */
static LLVMValueRef convert(LLVMBuilderRef b, LLVMContextRef ctx, LLVMValueRef x, gc_dtype from, gc_dtype to) {
  if (from == to) return x;
  LLVMTypeRef t = type_of(ctx, to);
  bool ff = gc_dtype_is_float(from), ft = gc_dtype_is_float(to);
  if (ff && ft) return gc_dtype_size(to) > gc_dtype_size(from) ? LLVMBuildFPExt(b, x, t, "") : LLVMBuildFPTrunc(b, x, t, "");
  if (ft) return from == GC_BOOL ? LLVMBuildUIToFP(b, x, t, "") : LLVMBuildSIToFP(b, x, t, "");
  if (ff) return LLVMBuildFPToSI(b, x, t, "");
  if (from == GC_BOOL) return LLVMBuildZExt(b, x, t, "");
  return gc_dtype_size(to) > gc_dtype_size(from) ? LLVMBuildSExt(b, x, t, "") : LLVMBuildTrunc(b, x, t, "");
}

/* An attribute's number as the parameter's C type (as C converts a double). */
static LLVMValueRef constant(LLVMContextRef ctx, double x, gc_dtype to) {
  switch (to) {
  case GC_F32: return LLVMConstReal(type_of(ctx, to), (double)(float)x);
  case GC_F64: return LLVMConstReal(type_of(ctx, to), x);
  case GC_I32: return LLVMConstInt(type_of(ctx, to), (unsigned long long)(int64_t)(int32_t)x, 1);
  default: return LLVMConstInt(type_of(ctx, to), (unsigned long long)(int64_t)x, 1);
  }
}

LLVMValueRef gc_llvm_emit_call(LLVMBuilderRef b, LLVMValueRef fn, const gc_loop_callee *c, const LLVMValueRef *ops,
                               const gc_dtype *op_dt, int n_ops, gc_dtype result) {
  LLVMContextRef ctx = LLVMGetTypeContext(LLVMTypeOf(fn));
  LLVMTypeRef params[GC_LOOP_MAX_CALL_ARGS];
  LLVMValueRef args[GC_LOOP_MAX_CALL_ARGS];
  int n = c->n_args < GC_LOOP_MAX_CALL_ARGS ? c->n_args : GC_LOOP_MAX_CALL_ARGS;
  for (int i = 0; i < n; i++) {
    params[i] = type_of(ctx, c->arg[i]);
    args[i] = i < n_ops ? convert(b, ctx, ops[i], op_dt[i], c->arg[i])
                        : constant(ctx, i - n_ops < c->n_extra ? c->extra[i - n_ops] : 0, c->arg[i]);
  }
  LLVMTypeRef ft = LLVMFunctionType(type_of(ctx, c->ret), params, (unsigned)n, 0);
  LLVMValueRef r = LLVMBuildCall2(b, ft, fn, args, (unsigned)n, "");
  return convert(b, ctx, r, c->ret, result);
}
