/* ir/live.h — when each stored value of a graph is alive.
 *
 * A graph runs in steps: each kernel (fuse) is one step, and so is each
 * node outside kernels that computes something (an unfused graph); sources
 * (params, inputs, constants) are in no step.  A value is stored when it
 * leaves its step — read by another step, or bound to an output or update;
 * it is born at its step and dies after the last step reading it (a bound
 * value: at the end, step n_steps).  plan gives values alive at the same
 * time disjoint bytes; the verifier checks that a planned graph does. */
#ifndef GC_IR_LIVE_H
#define GC_IR_LIVE_H

#include "ir/uses.h"

typedef struct {
  int n_steps;
  int *step;      /* node -> its step, -1 for sources */
  bool *stored;   /* node -> it leaves its step */
  int *last;      /* node -> the last step it is alive in (stored values) */
} gc_live;

/* Fill *l for g with its uses u.  0, or -1 (out of memory) with *l empty. */
int gc_live_init(gc_live *l, const gc_graph *g, const gc_uses *u, gc_diag *d);
void gc_live_free(gc_live *l);

/* The step whose first node is `first` holds only elementwise ops (and
 * sources computed inside its kernel). */
bool gc_live_elementwise_step(const gc_live *l, const gc_graph *g, int first);

#endif
