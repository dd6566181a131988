/* autodiff/vjp.h — internal: the vector-Jacobian product rules, one per op.
 *
 * A rule sees the forward node `node` (its operands and its own value, which
 * it may reuse), the adjoint `dy` of that value, and need[i] telling which
 * operands lie on a path from the differentiated values.  For each needed
 * operand i it writes the node holding that operand's adjoint contribution
 * into dx[i] (same type as the operand), or leaves -1 when the operand gets
 * none.  It emits only differentiable ops, so the result can be
 * differentiated again.  Returns 0, or -1 with the context failed. */
#ifndef GC_AUTODIFF_VJP_H
#define GC_AUTODIFF_VJP_H

#include "emit.h"

typedef int vjp_fn(ad_ctx *c, int node, int dy, const bool *need, int *dx);

/* The rule of op, or NULL when op is not differentiable (vjp_none). */
vjp_fn *ad_vjp_of(gc_op op);

/* Non-differentiable: sources, compares, argmax, iota, rand_uniform. */
vjp_fn vjp_none;

vjp_fn vjp_neg, vjp_abs, vjp_exp, vjp_log, vjp_sqrt, vjp_rsqrt, vjp_recip, vjp_tanh,
    vjp_sigmoid, vjp_erf, vjp_sin, vjp_cos, vjp_cast;
vjp_fn vjp_add, vjp_sub, vjp_mul, vjp_div, vjp_max, vjp_min, vjp_pow, vjp_where;
vjp_fn vjp_broadcast, vjp_reshape, vjp_transpose, vjp_slice, vjp_concat, vjp_pad;
vjp_fn vjp_reduce_sum, vjp_reduce_max, vjp_dot;
vjp_fn vjp_all_reduce, vjp_reduce_scatter, vjp_all_gather;
vjp_fn vjp_gather, vjp_scatter_add, vjp_call;

#endif
