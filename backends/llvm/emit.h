/* backends/llvm/emit.h — a loop function (ir/loop.h) as an LLVM module.
 *
 * A loop function runs as a list of steps, in order:
 *   parallel  a top-level parallel loop: function NAME.sK(bufs, lo, hi, err)
 *             computes the loop-invariant values before it (pure top-level
 *             code: no stores) and runs its iterations [lo, hi); the
 *             runtime shares [0, extent) out on the thread pool
 *   serial    a run of other top-level code: NAME.sK(bufs, 0, 0, err)
 *   gemm      a contraction: the runtime's GEMM driver (gemm.h) packs the
 *             operands and calls NAME.sK.ukr (the micro-kernel) for each
 *             tile and NAME.sK.epi (the epilogue) for each finished block
 * `bufs` holds the buffers' addresses (loop buffer order), then the
 * callees' (gc_loop_fn.callees: the user's functions); `err` two i64:
 * a failed CHECK stores its error code + 1 and the offending index there
 * and returns.
 *
 * Ownership: the module belongs to the caller's context; steps are plain
 * values (names point into the loop function's arena). */
#ifndef GC_LLVM_EMIT_H
#define GC_LLVM_EMIT_H

#include "backends/llvm/host.h"
#include "ir/loop.h"

#include <llvm-c/Core.h>

typedef enum { GC_STEP_SERIAL, GC_STEP_PARALLEL, GC_STEP_GEMM } gc_step_kind;

typedef struct {
  gc_step_kind kind;
  int from, to;                 /* its top-level instructions [from, to); a
                                 * PARALLEL step's loop is the last, the
                                 * ones before it (loop-invariant values:
                                 * scalars, bias corrections) its preamble */
  int64_t extent;               /* PARALLEL: iterations */
  const gc_loop_gemm *gemm;     /* GEMM */
  int vector;                   /* GEMM: lanes per vector of the micro-kernel */
  char name[96];                /* the step function (GEMM: the prefix of .ukr/.epi) */
} gc_kernel_step;

/* The steps of f (at most max; -1 if there are more). */
int gc_kernel_steps(const gc_loop_fn *f, gc_kernel_step *steps, int max);

/* f's step functions in a new module of ctx. NULL + message. */
LLVMModuleRef gc_emit_loop_fn(LLVMContextRef ctx, const gc_loop_fn *f, const gc_host *h, gc_diag *d);

/* The signatures the runtime calls. */
typedef void gc_step_fn(void **bufs, int64_t lo, int64_t hi, int64_t *err);
/* C[MR x NR] (row stride ldc) = (accumulate ? C : 0) + A B over kc steps:
 * A's element (r, k) at a[k*a_k + r*a_r], B's row k at b + k*b_k (NR
 * contiguous elements). */
typedef void gc_ukr_fn(const void *a, int64_t a_k, int64_t a_r, const void *b, int64_t b_k, int64_t kc, void *c,
                       int64_t ldc, int64_t accumulate);
typedef void gc_epi_fn(void **bufs, const void *block, int64_t ldb, int64_t batch, int64_t m0, int64_t n0,
                       int64_t mlen, int64_t nlen, int64_t *err);

#endif
