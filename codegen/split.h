/* codegen/split.h — index-set splitting and range folding of loop functions.
 *
 * A pad, a concat or a slice at a tensor's edge lowers to clamped indices
 * and selects: `where(0 <= i - 16 < 16, x[clamp(i - 16)], 0)`.  Inside an
 * innermost loop over i those make every load a gather, which LLVM leaves
 * scalar.  gc_split_loops cuts such a loop at the points where one of its
 * comparisons of the induction variable (an affine a·i + c against a
 * constant) changes outcome, into consecutive loops over the same
 * iterations in the same order; then range folding (codegen/range.h)
 * replaces every comparison whose outcome is known by its value, every
 * select on a known condition and every min/max with a known winner by the
 * operand, and drops what is left unused.  Each piece's indices are then
 * affine, and LLVM vectorizes it.
 *
 * A loop over the flat columns of a reshaped value (heads x lanes) reaches
 * its lanes through imod(i + S, m) and idiv(i + S, m), S a multiple of m:
 * it is strip-mined first, into j over [0, n/m) and l over [0, m), where
 * those are l and idiv(S, m), so the lanes' edges become comparisons of l.
 *
 * Results are unchanged: the same elements are computed from the same
 * operands in the same order.  Loops split are innermost, step 1, not
 * parallel and not at the top of the function (whose loops are the steps
 * the thread pool runs); at most GC_SPLIT_MAX_PIECES pieces each. */
#ifndef GC_CODEGEN_SPLIT_H
#define GC_CODEGEN_SPLIT_H

#include "ir/loop.h"

#define GC_SPLIT_MAX_PIECES 4

/* Split and fold f in place; the number of loops split.  The pieces get
 * `vector` as their vector width hint (0: none). */
int gc_split_loops(gc_loop_fn *f, int vector);

#endif
