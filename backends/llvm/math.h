/* Vectorizable transcendental functions emitted as LLVM IR.
 *
 * LLVM's llvm.exp/llvm.log/llvm.sin... intrinsics lower to scalar libm calls,
 * which stop the loop vectorizer. gc emits its own approximations instead:
 * range reduction plus a minimax polynomial, written with plain arithmetic,
 * comparisons, selects, bitcasts, integer ops and the llvm.fma / llvm.fabs /
 * llvm.copysign / llvm.sqrt intrinsics, all of which lower to vector
 * instructions. Each function matches libm (the interpreter, the oracle) to a
 * measured bound and keeps libm's special values (NaN, infinities, signed
 * zeros, overflow, underflow, subnormals): docs/math.md has the methods, the
 * bounds and the special cases.
 *
 * The operand type is float or double, or a fixed vector of either
 * (<N x float>, <N x double>). Results are bitwise the same whatever the
 * vector width, and on any host: fused multiply-adds are explicit llvm.fma
 * calls (a host without FMA computes them exactly, in software), and no
 * fast-math flag is set.
 */
#ifndef GC_BACKENDS_LLVM_MATH_H
#define GC_BACKENDS_LLVM_MATH_H

#include <llvm-c/Core.h>

typedef enum {
  GC_MATH_EXP,
  GC_MATH_LOG,
  GC_MATH_TANH,
  GC_MATH_SIGMOID,
  GC_MATH_ERF,
  GC_MATH_SIN,
  GC_MATH_COS,
  GC_MATH_POW,   /* binary: x^y */
  GC_MATH_RSQRT, /* 1 / sqrt(x), the interpreter's formula */
  GC_MATH_COUNT
} gc_math_fn;

/* "exp", "log", ...; NULL for a value out of range. */
const char *gc_math_fn_name(gc_math_fn fn);

/* 2 for GC_MATH_POW, 1 for the others. */
int gc_math_fn_arity(gc_math_fn fn);

/* Whether `type` is one gc_llvm_math accepts: float, double, or a fixed
 * vector of either. */
int gc_math_type_ok(LLVMTypeRef type);

/* The helper function computing `fn` on `type` in module `m`: an internal,
 * always-inline function named "gc.math.<fn>.<type>" (for instance
 * "gc.math.exp.v16f32") taking one operand (two for pow) of `type` and
 * returning `type`. It is emitted on first use and reused afterwards. NULL
 * if `fn` or `type` is not supported. The module owns the function. */
LLVMValueRef gc_llvm_math_function(LLVMModuleRef m, gc_math_fn fn, LLVMTypeRef type);

/* Emits `fn(x)` (pow: `x^y`; `y` is ignored by the others and may be NULL)
 * as a call to the helper above at the builder's position, and returns the
 * result. x and y must have the same supported type; NULL otherwise. The
 * call is inlined by any optimisation pipeline (the helper is
 * alwaysinline), so the caller's target attributes govern the code. */
LLVMValueRef gc_llvm_math(LLVMBuilderRef b, LLVMModuleRef m, gc_math_fn fn, LLVMValueRef x,
                          LLVMValueRef y);

#endif
