/* backends/llvm/call_kernel.h — a `call` node as a kernel of its own: no
 * loops; the run calls the user's function (backends/runtime/call.h) on
 * its operands' buffers and its result's, resolved and prepared (libffi's
 * call interface) once, when the program is compiled. */
#ifndef GC_LLVM_CALL_KERNEL_H
#define GC_LLVM_CALL_KERNEL_H

#include "backends/runtime/arena_plan.h"
#include "backends/runtime/call.h"

/* The call site of node id; NULL with a message when it cannot run here
 * (an operand computed where it is read has no buffer). */
gc_call_site *gc_llvm_call_site(const gc_graph *g, int id, gc_diag *d);

/* The call kernel k of node id stores its result and reads its operands:
 * their lives in v and stored, as a loop kernel's buffers give them. */
void gc_llvm_call_lives(const gc_graph *g, int id, int k, gc_arena_value *v, bool *stored);

#endif
