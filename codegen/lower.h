/* codegen/lower.h — one fused kernel of a graph as a loop function.
 *
 * A kernel is a set of nodes of the graph (those whose `kernel` is k, or a
 * single node); its results are the nodes whose values leave it (read by
 * another kernel, or bound to an output or update).  Everything it reads
 * from outside — params, inputs, other kernels' results — is a buffer;
 * constants, iota and rand_uniform are computed where they are used.
 *
 * Three shapes of kernel are lowered:
 *   loop    elementwise ops, layout ops (as index maps: a transpose,
 *           slice, pad, concat or reshape is never a copy) and reductions
 *           that all reduce the same axes of the same shape F.  Outer loops
 *           run over F without those axes (the outermost is parallel); in
 *           them, each reduction is an inner loop, and results are stored
 *           over their own shape.  When the reduced axes do not include
 *           F's last one and only reduced values leave the kernel, the
 *           reduction runs "by columns": the last axis innermost, in
 *           chunks with accumulators in a local array.
 *   dot     one dot, whose operands are strided views of buffers (so a
 *           transpose or a GQA broadcast feeding it is read in place), and
 *           elementwise ops on its result (its epilogue, applied to each
 *           element of a finished tile).
 *   index   one gather or scatter_add (an index out of range stops the
 *           kernel with an error naming the node).
 *
 * The loop function's buffers name the graph node whose value each holds
 * (gc_loop_fn.buffers[i] with node ids in `buffer_nodes`). */
#ifndef GC_CODEGEN_LOWER_H
#define GC_CODEGEN_LOWER_H

#include "ir/loop.h"

struct gc_uses;

typedef struct {
  const gc_graph *g;
  const int *nodes;          /* the kernel's nodes, ascending */
  int n_nodes;
  const char *name;          /* the loop function's name */
  const struct gc_uses *uses;   /* the graph's use lists (ir/uses.h), or NULL */
  /* scratch the caller may keep across the kernels of one graph, so that
   * lowering a kernel costs its size, not the graph's: g->n_nodes entries
   * each, all false and all -1, and left so; or NULL */
  bool *inside;
  int *buffer;
} gc_kernel_ref;

/* The loop function of kernel k; NULL + message (a kernel this lowering
 * cannot handle says which node and why).  *buffer_nodes receives a new
 * array (the caller frees it): the graph node of each buffer b. */
gc_loop_fn *gc_lower_kernel(const gc_kernel_ref *k, int **buffer_nodes, gc_diag *d);

#endif
