/* backends/llvm/gemm.h — the GEMM driver around a JIT'd micro-kernel.
 *
 * The loops around the micro-kernel (as BLIS): the work is cut into tasks,
 * one per (batch, MC block of rows, NC block of columns), shared out on the
 * thread pool.  For each KC block of the contraction a task gives the
 * micro-kernel, for each MR x NR tile of its C block, A read in place
 * (through its row and column strides when its K axis is contiguous; only a
 * last panel short of MR rows is copied, zero padded; a transposed A is
 * packed whole into MR-row panels, once per KC block) and B either read
 * in place (contiguous rows and K <= 64: small panels) or packed into
 * NR-column panels (larger K, for locality, and a transposed B, through
 * 16 x 16 register transposes on AVX-512).  The C block is accumulated in
 * scratch; when the contraction is done the kernel's epilogue reads it and
 * writes the outputs.  Each C element is one task's, summed over k in
 * order: results do not depend on the thread count.
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
