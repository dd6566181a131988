/* codegen/range.h — intervals of a loop function's integer values, and
 * folding by them.
 *
 * gc_range_of gives the interval [lo, hi] an i64 or bool instruction's value
 * lies in, when it can tell: constants; sums, differences, products, min
 * and max of known intervals; an induction variable from its loop's bounds;
 * idiv and imod by a constant; comparisons (0 or 1, one value when the
 * operands' intervals decide them) and selects.  gc_ranges_fold rewrites
 * the function by them: a comparison that cannot but hold (or fail)
 * becomes a constant, a select on it its operand, a min or max whose
 * winner is known that operand, an integer whose interval is one value
 * that constant; then drops the loads and arithmetic nobody reads.  Values
 * are unchanged, so results are too.
 *
 * A transformation that replaces an instruction by another records it in
 * repl (gc_range_resolve follows it); gc_ranges_fold applies them all. */
#ifndef GC_CODEGEN_RANGE_H
#define GC_CODEGEN_RANGE_H

#include "ir/loop.h"

typedef struct {
  bool known;
  int64_t lo, hi;   /* lo <= value <= hi */
} gc_range;

typedef struct {
  gc_loop_fn *f;
  gc_range *r;      /* per instruction, valid where done[] */
  bool *done;
  int cap;
  int *repl;        /* uses of i are to become uses of repl[i] */
  int *stack, cap_stack;   /* gc_range_of's walk */
} gc_ranges;

void gc_ranges_init(gc_ranges *c, gc_loop_fn *f);
void gc_ranges_free(gc_ranges *c);
/* After instructions were added: room for them. */
void gc_ranges_grow(gc_ranges *c);
/* After the function changed: intervals are computed again. */
void gc_ranges_reset(gc_ranges *c);

gc_range gc_range_of(gc_ranges *c, int id);
/* What id stands for now (repl followed). */
int gc_range_resolve(gc_ranges *c, int id);

/* Apply the replacements and fold by intervals (see above). */
void gc_ranges_fold(gc_ranges *c);

#endif
