/* backends/llvm/gemv.h — the GEMM driver's matrix-vector products.
 *
 * A contraction with one row (M = 1: a decode step's projections, the
 * lm_head over the vocabulary, attention of one query) is bound by reading
 * B once, not by arithmetic: packing B into panels (see gemm.h) would read
 * it, write it and read it again, and the micro-kernel would compute MR
 * rows for one.  So B is read in place, once: rows of a transposed B
 * (a weight stored [N, K], the keys of the cache) each as a dot product
 * with A's row, four at a time; rows of B as it is ([K, N]) each scaled by
 * A's element and added to the C row.  Each C element is summed by one
 * task in a fixed order: results do not depend on the thread count.  With
 * AVX-512 (at run time) 16 lanes at a time; elsewhere plain C. */
#ifndef GC_LLVM_GEMV_H
#define GC_LLVM_GEMV_H

#include "ir/loop.h"

#include <stdbool.h>
#include <stdint.h>

/* When g is an f32 contraction of one row with A's row contiguous (for a
 * transposed B) or B's rows contiguous: C's columns n0 .. n0+nc-1 of the
 * batch whose A and B start at A, B, into c[0..nc); true.  Else false
 * (nothing written). */
bool gc_gemv_f32(const gc_loop_gemm *g, const float *A, const float *B, int64_t n0, int64_t nc, float *c);

#endif
