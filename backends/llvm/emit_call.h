/* backends/llvm/emit_call.h — a GC_L_CALL instruction (ir/loop.h) as LLVM
 * IR: a direct call of the user's scalar C function through the address
 * the kernel was given (every signature gc accepts is one of f32 f64 i32
 * i64 arguments and result, which LLVM calls by the C ABI without libffi).
 * Operands, attribute constants and the result are converted as C
 * converts them (backends/runtime/call.c does the same for the
 * interpreter), so the values are equal bit for bit. */
#ifndef GC_LLVM_EMIT_CALL_H
#define GC_LLVM_EMIT_CALL_H

#include "ir/loop.h"

#include <llvm-c/Core.h>

/* fn: the function's address (a ptr value); ops[i] of dtype op_dt[i].
 * The result as dtype `result`. */
LLVMValueRef gc_llvm_emit_call(LLVMBuilderRef b, LLVMValueRef fn, const gc_loop_callee *c, const LLVMValueRef *ops,
                               const gc_dtype *op_dt, int n_ops, gc_dtype result);

#endif
