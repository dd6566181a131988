/* ir/plan.h — where every stored value of a graph lives (the plan pass's
 * work; docs/ir.md, "Plan attributes").
 *
 * Steps and liveness are gc_live's (ir/live.h).  Values alive at the same
 * time get disjoint byte ranges of one arena (first fit, ir/first_fit.h,
 * 64-byte aligned): offset=N.  Two kinds of in place, both written in the
 * IR so that no backend infers them:
 *   - an update written straight into its param's buffer (into="P"), when
 *     every other read of the param comes before it and the reads in its
 *     own kernel are elementwise reads of the same element
 *     (gc_live_into_conflict, the rule the verifier checks);
 *   - an elementwise kernel's only result over an operand that dies there
 *     (same bytes, read only elementwise), when that operand is an arena
 *     value: over=%x beside the shared offset.
 * Every backend runs a planned graph (gc_compile always runs plan). */
#ifndef GC_IR_PLAN_H
#define GC_IR_PLAN_H

#include "ir/ir.h"

typedef struct {
  int64_t peak;        /* the arena's size */
  double stored;       /* the stored values' bytes, summed */
  double every;        /* every non-source value's bytes, summed */
} gc_plan_stats;

/* Place every stored value of g (its old places dropped first); updates
 * into their params only with inplace_updates.  stats may be NULL.  0, or
 * -1 (out of memory) with g's places unchanged or dropped. */
int gc_plan(gc_graph *g, bool inplace_updates, gc_plan_stats *stats, gc_diag *d);

#endif
