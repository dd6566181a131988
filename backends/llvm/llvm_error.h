/* backends/llvm/llvm_error.h — LLVM's error values as gc diagnostics.
 *
 * LLVM reports failures as LLVMErrorRef (which must be consumed exactly once)
 * or as a char * message (which must be disposed); these turn either into a
 * gc_diag message and release it, so no LLVM error outlives the call that
 * saw it. */
#ifndef GC_LLVM_ERROR_H
#define GC_LLVM_ERROR_H

#include "ir/ir.h"

#include <llvm-c/Error.h>

/* "<what>: <LLVM's message>" into d (may be NULL); consumes err (non-NULL).
 * Always returns -1. */
int gc_llvm_error(gc_diag *d, LLVMErrorRef err, const char *what);

/* The same for a message from an LLVM function that returns char *
 * (LLVMDisposeMessage'd here; NULL reads as "unknown error"). */
int gc_llvm_message(gc_diag *d, char *msg, const char *what);

#endif
