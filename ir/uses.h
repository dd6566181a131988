/* ir/uses.h — use lists and liveness of a graph's values.
 *
 * gc_uses_init computes, for every node of a graph: the nodes that read it
 * (in ascending order, one entry per operand slot, so `add %x, %x` lists the
 * add twice), whether an output or an update binds it, and its last use.
 * Passes (CSE, DCE, fusion, memory planning) and backends' buffer planning
 * read it; it does not change when the graph does, so recompute it after a
 * rewrite.
 *
 * The caller owns the gc_uses struct (it may live on the stack); the arrays
 * it points to are allocated by gc_uses_init and released by gc_uses_free.
 * The struct does not point into the graph. */
#ifndef GC_IR_USES_H
#define GC_IR_USES_H

#include "ir.h"

enum { GC_BOUND_OUTPUT = 1, GC_BOUND_UPDATE = 2 };

typedef struct gc_uses {
  int n_nodes;
  int n_reads;          /* operand slots in the whole graph */
  /* The readers of node i are readers[first[i] .. first[i + 1]), ascending.
   * `first` has n_nodes + 1 entries, `readers` n_reads. */
  int *first;
  int *readers;
  /* last_use[i]: n_nodes when an output or update binds node i; else the
   * largest id of a node reading it; else i itself (nothing reads it). */
  int *last_use;
  /* bound[i]: GC_BOUND_OUTPUT and/or GC_BOUND_UPDATE, or 0. */
  unsigned char *bound;
} gc_uses;

/* Fill *u for g.  Returns 0, or -1 with a message in d (an operand or a
 * binding that refers to no earlier node, or out of memory); *u then holds
 * nothing to free (gc_uses_free on it is harmless). */
int gc_uses_init(gc_uses *u, const gc_graph *g, gc_diag *d);
/* Release the arrays; *u is left empty.  NULL and empty structs are fine. */
void gc_uses_free(gc_uses *u);

/* How many operand slots read node id. */
static inline int gc_uses_count(const gc_uses *u, int id) { return u->first[id + 1] - u->first[id]; }
/* The readers of node id: gc_uses_count(u, id) ids, ascending. */
static inline const int *gc_uses_readers(const gc_uses *u, int id) { return u->readers + u->first[id]; }
/* An output or update binds node id. */
static inline bool gc_uses_is_bound(const gc_uses *u, int id) { return u->bound[id] != 0; }
/* A collective reads node id (its value must then be stored, as a bound
 * one is: the communicator reads a buffer). */
static inline bool gc_uses_read_by_collective(const gc_uses *u, const gc_graph *g, int id) {
  for (int k = 0; k < gc_uses_count(u, id); k++)
    if (gc_op_is_collective(g->nodes[gc_uses_readers(u, id)[k]]->op)) return true;
  return false;
}
/* Nothing reads node id and nothing binds it: removing it changes no result. */
static inline bool gc_uses_is_dead(const gc_uses *u, int id) {
  return gc_uses_count(u, id) == 0 && !gc_uses_is_bound(u, id);
}

#endif
