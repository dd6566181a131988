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
  bool *mark;     /* scratch for gc_live_into_conflict, all false */
} gc_live;

/* Fill *l for g with its uses u.  0, or -1 (out of memory) with *l empty. */
int gc_live_init(gc_live *l, const gc_graph *g, const gc_uses *u, gc_diag *d);
void gc_live_free(gc_live *l);

/* The nodes of each step, in order: step k's are nodes[first[k] ..
 * first[k+1]) (nodes and first of g->n_nodes + 1 ints; sources, in no
 * step, are left out).  What a kernel is for every consumer: the backends
 * run these steps, plan and remat count them. */
void gc_live_steps(const gc_live *l, const gc_graph *g, int *nodes, int *first);

/* The step whose first node is `first` holds only elementwise ops (and
 * sources computed inside its kernel). */
bool gc_live_elementwise_step(const gc_live *l, const gc_graph *g, int first);

/* Why update value v cannot be written straight into the buffer of param
 * node `param` (into=): a message, with *reader the node in the way (or
 * -1); NULL when it can.  It can when v is stored and bound to that one
 * update, no output or update binds the param itself (it wants the old
 * value), and every read of the param comes before the write: in an
 * earlier step, or in v's own step by nodes before v that are elementwise
 * ops of the param's shape, or reductions, and so are the nodes of the
 * step reading what those elementwise ops compute (each element is then
 * read at the coordinate it is written at, or by a reduction complete
 * before the write, and nothing reads the param once it is written).
 * plan writes updates in place under this rule, and the verifier refuses
 * any other into=. */
const char *gc_live_into_conflict(const gc_live *l, const gc_uses *u, const gc_graph *g, int v, int param, int *reader);

#endif
