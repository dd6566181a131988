/* codegen/tile.h — tiling a loop function for the machine it will run on.
 *
 * A GEMM gets its register tile (MR rows x NR columns of accumulators, NR a
 * multiple of the host's vector width) and its blocks: KC, the length of
 * one pass over k (fixed by the shape, so the order of the sums never
 * depends on the threads), and MC x NC, the C block one task accumulates
 * (sized from L2).  Loops keep their order and structure (the split stage
 * before it, codegen/split.h, has cut innermost loops at a pad's or a
 * concat's edges), and LLVM's vectorizer widens their innermost loops.  The outermost parallel loop
 * is marked by lowering; its iterations are shared out on the thread pool
 * in contiguous chunks, and since every reduction stays inside one
 * iteration, results never depend on the thread count. */
#ifndef GC_CODEGEN_TILE_H
#define GC_CODEGEN_TILE_H

#include "ir/loop.h"

typedef struct {
  int vector_bits;             /* 512, 256, 128 */
  int64_t l1_bytes, l2_bytes;  /* per core */
} gc_tile_target;

void gc_tile_loop_fn(gc_loop_fn *f, const gc_tile_target *t);

#endif
