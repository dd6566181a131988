/* ir/first_fit.h — one arena for a run's intermediate values, the
 * first-fit placement under gc_plan (ir/plan.h), its one caller: every
 * backend reads the offsets the plan writes into the IR.
 *
 * Values are born at a step and die after their last reading step; each
 * gets an offset in one arena such that values alive at the same time never
 * overlap.  Steps are gc_live's (ir/live.h): a kernel, or a node outside
 * kernels (a kernel's results are born before, and its operands die after,
 * the whole kernel).  First fit in step order; every value is 64-byte
 * aligned. */
#ifndef GC_IR_FIRST_FIT_H
#define GC_IR_FIRST_FIT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  size_t bytes;      /* 0: the value needs no arena space */
  int born, dies;    /* steps; dies >= born */
} gc_arena_value;

/* offsets[i] for every value with bytes > 0 (SIZE_MAX for the others);
 * *total the arena's size.  0, or -1 when out of memory. */
int gc_first_fit(const gc_arena_value *values, int n, int n_steps, size_t *offsets, size_t *total);

#endif
