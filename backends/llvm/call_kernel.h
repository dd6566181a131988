/* backends/llvm/call_kernel.h — a `call` node as a kernel of its own: no
 * loops; the run calls the user's function (backends/runtime/call.h) on
 * its operands' buffers and its result's, resolved and prepared (libffi's
 * call interface) once, when the program is compiled.  An operand that
 * the llvm backend computes where it is read (a const or an iota, which
 * has no buffer) is computed here once, by the interpreter. */
#ifndef GC_LLVM_CALL_KERNEL_H
#define GC_LLVM_CALL_KERNEL_H

#include "backends/runtime/arena_plan.h"
#include "backends/runtime/call.h"

typedef struct gc_llvm_call gc_llvm_call;

/* The call kernel of node id; NULL with a message when it cannot run. */
gc_llvm_call *gc_llvm_call_new(const gc_graph *g, int id, gc_diag *d);
void gc_llvm_call_free(gc_llvm_call *c);

/* One run: in[i] is operand i's buffer (NULL for one computed where it is
 * read: the kernel holds it), out the result's. */
int gc_llvm_call_run(const gc_llvm_call *c, const void **in, void *out, gc_diag *d);

/* The call kernel k of node id stores its result and reads its operands:
 * their lives in v and stored, as a loop kernel's buffers give them. */
void gc_llvm_call_lives(const gc_graph *g, int id, int k, gc_arena_value *v, bool *stored);

#endif
