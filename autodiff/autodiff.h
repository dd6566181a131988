/* autodiff/autodiff.h — reverse-mode differentiation as graph rewriting.
 *
 * The backward computation is appended to the same graph as ordinary IR
 * nodes, so it prints, optimises and runs like the forward part, and can be
 * differentiated again. */
#ifndef GC_AUTODIFF_H
#define GC_AUTODIFF_H

#include "ir/ir.h"

/* Append d(output)/d(wrt[i]) for a scalar float node `output`.
 * wrt: node ids to differentiate with respect to (float-typed); when NULL,
 * every float param, in node order (n_wrt is then ignored and `grads` must
 * have room for every node).  grads[i] receives the gradient node of wrt[i]
 * (same type as wrt[i]; a zero `const` when the output does not reach it).
 * Gradients of params are labelled "grad.<param name>".
 * Returns the number of gradients written, or -1 with a message in d. */
int gc_grad(gc_graph *g, int output, const int *wrt, int n_wrt, int *grads, gc_diag *d);

/* The gradient of the output named `output` with respect to every float
 * param, each added to the graph as `output "grad.<param>"`.  0 or -1. */
int gc_grad_outputs(gc_graph *g, const char *output, gc_diag *d);

/* True when every op has a VJP rule (or is marked non-differentiable);
 * a test asserts it so that a new op without a rule fails the suite. */
bool gc_autodiff_covers_all_ops(void);

#endif
