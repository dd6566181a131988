/* backends/llvm/call_kernel.h — the user's functions in compiled kernels.
 *
 * A buffer call node (or any call that does not fuse) is a kernel of its
 * own: a loop function without loops whose buffers are the operands and
 * the result, and whose one instruction calls the runtime's entry for the
 * site (resolved and prepared once, when the program is compiled), which
 * runs the user's function (backends/runtime/call.h) on those buffers; a
 * failure stops the kernel, and the run reports the callee's message.  An
 * operand that the llvm backend computes where it is read (a const or an
 * iota, which has no buffer) is computed here once, by the interpreter.
 *
 * {elementwise} calls fused into loop kernels are called per element by
 * the generated code (emit_call.h); gc_llvm_callees_bind gives it their
 * addresses. */
#ifndef GC_LLVM_CALL_KERNEL_H
#define GC_LLVM_CALL_KERNEL_H

#include "backends/runtime/call.h"
#include "ir/loop.h"

typedef struct gc_llvm_call gc_llvm_call;

/* The call kernel of node id; NULL with a message when it cannot run. */
gc_llvm_call *gc_llvm_call_new(const gc_graph *g, int id, gc_diag *d);
void gc_llvm_call_free(gc_llvm_call *c);

/* The call kernel's loop function, named `name`: buffers operand 0..n-1,
 * then the result (*buffer_nodes: their nodes, malloc'd); its callee 0 is
 * a buffer call whose table slot must hold c. */
gc_loop_fn *gc_llvm_call_loop_fn(const gc_graph *g, int id, gc_llvm_call *c, const char *name, int **buffer_nodes,
                                 gc_diag *d);

/* The run's error after the kernel reported its call failed: the callee's
 * message.  Returns -1. */
int gc_llvm_call_error(gc_llvm_call *c, gc_diag *d);

/* The functions a loop kernel calls per element (f's callees, the
 * {elementwise} calls lowered into its loops): each resolved, checked and
 * its C signature written into f; its address into table[c], the slot
 * after the kernel's buffers that the generated code reads
 * (bufs[n_buffers + c]). */
int gc_llvm_callees_bind(const gc_graph *g, gc_loop_fn *f, void **table, gc_diag *d);

#endif
