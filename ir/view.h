/* ir/view.h — layout chains as strided views.
 *
 * A chain of layout ops (broadcast, reshape, transpose, slice) ending at a
 * stored value reads element `c` of its result at offset + Σ c[i]·stride[i]
 * of the stored value, when that is affine.  gc_view_of follows such a chain
 * down from node `id` to the first node that is not a layout op of that kind
 * (or is in `stop`), and says whether the chain is one strided view.  Fusion
 * uses it to decide what a dot can read in place (a transposed or
 * broadcast operand) and lowering to address those reads. */
#ifndef GC_IR_VIEW_H
#define GC_IR_VIEW_H

#include "ir/ir.h"

typedef struct {
  int base;                      /* the node whose stored value is read */
  int rank;                      /* of the viewing node */
  int64_t dims[GC_MAX_RANK];
  int64_t strides[GC_MAX_RANK];  /* in elements of base (0: broadcast) */
  int64_t offset;
} gc_view;

/* The view of node `id` through layout ops down to a base.  `stop(id, ctx)`
 * (may be NULL) ends the chain at a node that is stored even if it is a
 * layout op.  False when the chain is not one strided view (a reshape that
 * splits a dimension the chain had already strided, a pad, a concat). */
typedef bool gc_view_stop(int id, void *ctx);
bool gc_view_of(const gc_graph *g, int id, gc_view_stop *stop, void *ctx, gc_view *v);

/* Row-major strides of a type. */
void gc_row_major_strides(const gc_type *t, int64_t *strides);

#endif
