/* passes/tile.h — tiling a loop function for the machine it will run on.
 *
 * A GEMM gets its register tile (MR rows x NR columns of accumulators, NR a
 * multiple of the vector width) and its cache blocks: KC so that a KC x NR
 * panel of B stays in L1, MC so that an MC x KC block of A stays in L2, NC
 * from L2 as well (the C block MC x NC is accumulated per thread).  Loops
 * keep their order; the innermost loop over a buffer's contiguous axis gets
 * the vector width as a hint.  The outermost parallel loop is already
 * marked by lowering; its iterations are shared out in fixed chunks, so the
 * tiling never depends on the thread count. */
#ifndef GC_PASSES_TILE_H
#define GC_PASSES_TILE_H

#include "ir/loop.h"

typedef struct {
  int vector_bits;             /* 512, 256, 128 */
  int64_t l1_bytes, l2_bytes;  /* per core */
} gc_tile_target;

void gc_tile_loop_fn(gc_loop_fn *f, const gc_tile_target *t);

#endif
