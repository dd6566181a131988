/* backends/llvm/gemm.h — the GEMM driver around a JIT'd micro-kernel.
 *
 * The five loops around the micro-kernel (as BLIS): the work is cut into
 * tasks, one per (batch, MC block of rows, NC block of columns), shared out
 * on the thread pool; a task packs, for each KC block of the contraction,
 * an MC x KC block of A into MR-row panels and a KC x NC block of B into
 * NR-column panels (zero-padded at the edges, whatever the operands'
 * strides: transposes and broadcast batch dims are read in place here),
 * calls the micro-kernel for each MR x NR tile of its C block, and when the
 * contraction is done applies the kernel's epilogue to the block.  Each C
 * element is one task's, summed over k in order: results do not depend on
 * the thread count.
 *
 * Scratch: gc_gemm_scratch_bytes per worker, given by the caller (no
 * allocation per run). */
#ifndef GC_LLVM_GEMM_H
#define GC_LLVM_GEMM_H

#include "backends/llvm/emit.h"
#include "backends/runtime/pool.h"

size_t gc_gemm_scratch_bytes(const gc_loop_gemm *g);

/* Run the contraction.  scratch[w] is worker w's scratch.  0, or the
 * epilogue's error (err[0] != 0). */
void gc_gemm_run(const gc_loop_gemm *g, void **bufs, gc_ukr_fn *ukr, gc_epi_fn *epi, gc_pool *pool,
                 void **scratch, int64_t *err);

#endif
