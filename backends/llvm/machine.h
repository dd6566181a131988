/* backends/llvm/machine.h — one LLVM module in, machine code out.
 *
 * The steps every kernel module goes through, in order:
 *   gc_machine_verify    reject a malformed module with the verifier's message
 *   gc_machine_prepare   triple and data layout of the target machine on the
 *                        module; `target-cpu` and `target-features` on every
 *                        function definition (without them the code is
 *                        generic x86-64: SSE2, whatever the target machine)
 *   gc_machine_optimize  the new pass manager's default<O3> pipeline, loop
 *                        and SLP vectorisation, interleaving and unrolling on
 *   gc_machine_emit      an ELF object (or assembly) into memory
 * gc_machine_module does all four, and optionally keeps the optimised IR and
 * the assembly as text (for --emit-llvm / --emit-asm).
 *
 * Ownership: the caller keeps the module, its context and the target
 * machine; these functions modify the module in place and use the target
 * machine, so both belong to the calling thread for the duration.  Every
 * buffer returned is malloc'd and belongs to the caller (free(), or
 * gc_machine_output_free).  Errors are gc_diag messages; nothing is printed:
 * while gc_machine_module runs, the context's diagnostic handler is replaced
 * by one that keeps the first error (LLVM's default prints it and exits)
 * and drops warnings and remarks; the caller's handler is put back after. */
#ifndef GC_LLVM_MACHINE_H
#define GC_LLVM_MACHINE_H

#include "ir/ir.h"

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

#include <stdbool.h>
#include <stddef.h>

/* 0, or -1 with "LLVM module NAME is invalid: <the verifier's findings>". */
int gc_machine_verify(LLVMModuleRef m, gc_diag *d);

/* Sets m's triple and data layout to tm's, and tm's CPU and feature string
 * as the `target-cpu` / `target-features` attributes of every function
 * definition in m (replacing any already there). */
void gc_machine_prepare(LLVMModuleRef m, LLVMTargetMachineRef tm);

/* Runs default<O3> on m for tm.  0, or -1 with LLVM's message. */
int gc_machine_optimize(LLVMModuleRef m, LLVMTargetMachineRef tm, gc_diag *d);

/* Code for m as an object file (LLVMObjectFile) or assembly text
 * (LLVMAssemblyFile) in a malloc'd buffer *out of *len bytes, followed by a
 * NUL not counted in *len.  Code generation rewrites some of m's IR, so emit
 * from a clone (LLVMCloneModule) to emit twice.  0, or -1 with a message. */
int gc_machine_emit(LLVMModuleRef m, LLVMTargetMachineRef tm, LLVMCodeGenFileType kind,
                    char **out, size_t *len, gc_diag *d);

/* m's textual IR, malloc'd. NULL when out of memory. */
char *gc_machine_ir_text(LLVMModuleRef m);

typedef struct {
  bool want_ir;    /* keep the optimised module's IR text */
  bool want_asm;   /* keep the assembly text (from a clone of the module) */
} gc_machine_options;

typedef struct {
  char *object;          /* the ELF relocatable object */
  size_t object_len;
  char *ir_text;         /* NUL-terminated, or NULL when not wanted */
  char *asm_text;        /* NUL-terminated, or NULL when not wanted */
} gc_machine_output;

/* Verify, prepare, optimise and emit m (o may be NULL: object only).  On
 * success *out holds the buffers (the caller frees them with
 * gc_machine_output_free); on failure *out is empty and d says why. */
int gc_machine_module(LLVMModuleRef m, LLVMTargetMachineRef tm, const gc_machine_options *o,
                      gc_machine_output *out, gc_diag *d);

/* Frees the buffers of out and empties it (out itself is the caller's). */
void gc_machine_output_free(gc_machine_output *out);

/* Writes `text` to DIR/NAME.SUFFIX atomically (suffix "ll" or "s"),
 * creating DIR and its parents when missing.  Characters of NAME other than
 * letters, digits, '_', '-' and '.' become '_', so a kernel name is always
 * one file inside DIR.  0, or -1 with "cannot write PATH: reason". */
int gc_machine_write_text(const char *dir, const char *name, const char *suffix,
                          const char *text, gc_diag *d);

#endif
