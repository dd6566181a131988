/* backends/runtime/comm.h — the communicator: what collectives run through.
 *
 * A program's collectives (all_reduce, reduce_scatter, all_gather in the
 * IR) call the communicator its compile options name: the local one (one
 * process: every collective is the identity, since the world is one rank)
 * or the Open MPI one (comm_mpi.c, the only file that includes mpi.h),
 * which gc_comm_world() returns when the process was started by mpirun.
 *
 * Deterministic: a sum over ranks is taken in rank order, ((x0 + x1) + x2)
 * ..., on every rank, so every rank gets bitwise the same result and a run
 * on N ranks sums gradients in the order one process accumulating N
 * micro-batches does.
 *
 * Ownership: gc_comm_world's communicator is freed with gc_comm_free (which
 * ends MPI); the local one is static and gc_comm_free ignores it.  Errors
 * are values: -1 with a message in `d`. */
#ifndef GC_RUNTIME_COMM_H
#define GC_RUNTIME_COMM_H

#include "ir/ir.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct gc_comm gc_comm;

typedef struct {
  const char *name;   /* "local", "mpi" */
  /* Every rank's `n` elements gathered in rank order: out holds size * n. */
  int (*all_gather)(const gc_comm *c, const void *in, void *out, int64_t n, gc_dtype dt, gc_diag *d);
  /* Block r (n elements) of every rank's `in` (size * n) sent to rank r:
   * out holds size * n, rank s's block at s * n. */
  int (*all_to_all)(const gc_comm *c, const void *in, void *out, int64_t n, gc_dtype dt, gc_diag *d);
  void (*free)(gc_comm *c);
} gc_comm_ops;

struct gc_comm {
  const gc_comm_ops *ops;
  int rank, size;
  void *impl;         /* the transport's */
  void *scratch;      /* 2 * size * GC_COMM_CHUNK elements of the widest dtype */
};

/* Collectives move at most this many elements per rank per exchange; longer
 * buffers go in chunks (bounds the scratch memory). */
#define GC_COMM_CHUNK ((int64_t)1 << 20)

/* One process: rank 0 of 1. */
const gc_comm *gc_comm_local(void);
/* Under mpirun (Open MPI's environment is set), MPI initialised and its
 * world; else the local communicator.  NULL + message when MPI fails. */
gc_comm *gc_comm_world(gc_diag *d);
void gc_comm_free(gc_comm *c);

/* The collectives of the IR, on contiguous buffers of dtype dt (in may
 * equal out for all_reduce).  all_reduce: out = the sum over ranks of in
 * (n elements), times 1/size when `mean`.  reduce_scatter: in holds
 * size * n elements; out (n) = the sum over ranks of block `rank` of in.
 * all_gather: out (size * n) = every rank's in (n), in rank order. */
int gc_comm_all_reduce(const gc_comm *c, const void *in, void *out, int64_t n, gc_dtype dt, bool mean, gc_diag *d);
int gc_comm_reduce_scatter(const gc_comm *c, const void *in, void *out, int64_t n, gc_dtype dt, bool mean,
                           gc_diag *d);
int gc_comm_all_gather(const gc_comm *c, const void *in, void *out, int64_t n, gc_dtype dt, gc_diag *d);

/* Run collective node n (all_reduce, reduce_scatter, all_gather) of a
 * graph on its operand's buffer `in` of type `in_type`, writing `out`: what
 * both backends call.  Axis 0 of reduce_scatter's operand and of
 * all_gather's result must be the part's length times c->size (the text
 * names no world size, so this is checked here). */
int gc_comm_run_node(const gc_comm *c, const gc_node *n, const gc_type *in_type, const void *in, void *out,
                     gc_diag *d);

#endif
