/* ir/loop.h — the loop IR: what one fused kernel becomes before LLVM.
 *
 * A loop function is a list of instructions in SSA form arranged in nested
 * blocks, in the manner of MLIR's scf/arith/memref dialects cut down to
 * what gc's kernels need:
 *
 *   for      %i = lo to hi step s [iter(%a = init, ...)] { ... yield ... }
 *            loops; `iter` values carry reductions (phi nodes in LLVM).  A
 *            loop may be marked parallel (its iterations are shared out on
 *            the thread pool in contiguous chunks; a reduction never crosses
 *            iterations of a parallel loop) and carry a vector width hint.
 *   load     %v = load %buf[%index]            one element of a buffer
 *   store    store %buf[%index], %v
 *   op       %v = add %a, %b ...               any elementwise op of the
 *            graph IR (its gc_op), on scalars of its dtype; index
 *            arithmetic is the same ops on i64 values, plus idiv/imod
 *   const    %v = const 0.5 : f32
 *   rand     %v = rand %ctr, %index {seed}     rand_uniform's Philox draw
 *   check    check %idx in [0, n) else error E  an out-of-range index stops
 *            the kernel with error E (which names the graph node)
 *   gemm     the contraction of a dot kernel: packed panels, a register-
 *            blocked micro-kernel and an epilogue block applied to each
 *            finished tile element (see gc_loop_gemm)
 *
 * Buffers are the kernel's arguments: each a pointer to elements of one
 * dtype (a graph value's storage).  Indices are i64 element offsets.
 *
 * Ownership: a gc_loop_fn owns everything in it (one arena); free it with
 * gc_loop_free.  The printer returns a malloc'd string. */
#ifndef GC_IR_LOOP_H
#define GC_IR_LOOP_H

#include "ir/ir.h"

typedef enum {
  GC_L_CONST,
  GC_L_OP,      /* elementwise gc_op on in[] */
  GC_L_IDIV,    /* a non-negative i64 index divided by a positive constant (index maps) */
  GC_L_IMOD,    /* i64 remainder by a positive constant, in [0, c) */
  GC_L_LOAD,    /* buffer, in[0] = index */
  GC_L_STORE,   /* buffer, in[0] = index, in[1] = value; no result */
  GC_L_FOR,     /* in[0] = lo, in[1] = hi, in[2..] = iter inits; results:
                 * the iter values after the loop; body: block */
  GC_L_YIELD,   /* the iter values of the next iteration (end of a body) */
  GC_L_IV,      /* a loop's induction variable (first in its body) */
  GC_L_ITER,    /* a loop's iter value k inside its body */
  GC_L_RESULT,  /* the k-th result of a for (after it) */
  GC_L_RAND,    /* in[0] = counter (i64), in[1] = index (i64); seed attr */
  GC_L_CHECK,   /* in[0] = index, in[1] = bound: 0 <= index < bound, else
                 * error `error` reporting in[2] (the kernel stops) */
  GC_L_GEMM,    /* see gc_loop_gemm */
  GC_LOP_COUNT
} gc_lop;

typedef struct gc_loop_block {
  int n, cap;
  int *insts;
} gc_loop_block;

/* A dot kernel's contraction.  Each operand is a strided view of a buffer:
 * element (b, i, j) of A at a_offset + b·a_batch[...] + i·a_row + j·a_col,
 * with batch dims decomposed by batch_dims (row-major over the output's
 * batch shape).  The epilogue block runs for each element of each finished
 * tile: its GC_L_IV instructions are, in order, the batch index (linear),
 * m and n, and GC_L_ITER 0 is the accumulated value; it stores the
 * kernel's outputs. */
typedef struct {
  int a_buf, b_buf;
  int64_t m, n, k;
  int batch_rank;
  int64_t batch_dims[GC_MAX_RANK];
  int64_t a_batch[GC_MAX_RANK], b_batch[GC_MAX_RANK];   /* strides per batch dim */
  int64_t a_offset, a_row, a_col;   /* A is [m, k] */
  int64_t b_offset, b_row, b_col;   /* B is [k, n] */
  gc_dtype dtype;
  /* tiling (set by the tile pass; 0 until then) */
  int mr, nr;                 /* micro-tile */
  int64_t kc, mc, nc;         /* cache blocks */
  gc_loop_block epilogue;
} gc_loop_gemm;

typedef struct {
  gc_lop op;
  gc_dtype dtype;             /* of the result (index values are i64) */
  int n_in;
  int in[4];                  /* operands (instruction ids); FOR: more in `more` */
  int *more;                  /* FOR: iter inits beyond in[2..3] ... */
  gc_op gop;                  /* OP: which elementwise op */
  double value;               /* CONST */
  int64_t ivalue;             /* CONST (integers), IDIV/IMOD divisor, FOR step,
                               * ITER/RESULT index, CHECK error code */
  int buffer;                 /* LOAD/STORE */
  int loop;                   /* IV/ITER/RESULT: the FOR it belongs to */
  int64_t seed;               /* RAND */
  bool parallel;              /* FOR: iterations shared out on the pool */
  bool reassoc;               /* FOR: its iter values are reductions that may
                               * be reassociated (vectorized) */
  int vector;                 /* FOR: vector width hint, 0 none */
  int n_iter;                 /* FOR: iter values */
  gc_loop_block body;         /* FOR */
  gc_loop_gemm *gemm;         /* GEMM */
} gc_loop_inst;

typedef struct {
  const char *name;           /* e.g. the graph value it stores */
  gc_dtype dtype;
  int64_t elements;
  bool written;
  bool local;                 /* a scratch array of the kernel (one per task),
                               * not an argument */
  int shares;                 /* a written buffer stored over read buffer
                               * `shares` (an update into its param, or a
                               * result reusing a dying operand): the kernel
                               * reads that buffer only at the elements it
                               * writes, in the same iteration; -1 none */
} gc_loop_buffer;

typedef struct gc_loop_fn {
  gc_arena *arena;
  const char *name;
  int n_insts, cap_insts;
  gc_loop_inst *insts;
  int n_buffers;
  gc_loop_buffer *buffers;
  gc_loop_block body;
  /* error codes of CHECK: message templates naming the graph node */
  int n_errors;
  const char **errors;
} gc_loop_fn;

gc_loop_fn *gc_loop_new(const char *name);
void gc_loop_free(gc_loop_fn *f);

/* Buffers and errors. */
int gc_loop_add_buffer(gc_loop_fn *f, const char *name, gc_dtype dt, int64_t elements, bool written);
int gc_loop_add_local(gc_loop_fn *f, const char *name, gc_dtype dt, int64_t elements);
int gc_loop_add_error(gc_loop_fn *f, const char *message);

/* Blocks are named by an int: GC_LOOP_TOP for the function's body, a FOR's
 * id for its body, a GEMM's id for its epilogue.  (Instructions live in one
 * growing array, so pointers into it do not stay valid while emitting.) */
#define GC_LOOP_TOP (-1)
gc_loop_block *gc_loop_block_of(gc_loop_fn *f, int blk);

/* Emitting into a block (appends the instruction to `blk`; returns its id). */
int gc_loop_const(gc_loop_fn *f, int blk, gc_dtype dt, double v);
int gc_loop_index(gc_loop_fn *f, int blk, int64_t v);   /* i64 constant */
int gc_loop_op(gc_loop_fn *f, int blk, gc_op op, gc_dtype dt, const int *in, int n_in);
int gc_loop_idiv(gc_loop_fn *f, int blk, int x, int64_t c);
int gc_loop_imod(gc_loop_fn *f, int blk, int x, int64_t c);
int gc_loop_load(gc_loop_fn *f, int blk, int buffer, int index);
void gc_loop_store(gc_loop_fn *f, int blk, int buffer, int index, int value);
int gc_loop_rand(gc_loop_fn *f, int blk, gc_dtype dt, int64_t seed, int counter, int index);
void gc_loop_check(gc_loop_fn *f, int blk, int index, int bound, int shown, int error);

/* for %iv = lo to hi step step, with n_iter iter values starting at init[].
 * Returns the FOR's id; its body is f->insts[id].body, which starts with the
 * IV and the ITERs (gc_loop_iv, gc_loop_iter give their ids); end the body
 * with gc_loop_yield (when n_iter > 0); gc_loop_result gives the results. */
int gc_loop_for(gc_loop_fn *f, int blk, int lo, int hi, int64_t step, const int *init, int n_iter,
                const gc_dtype *iter_dtypes);
int gc_loop_iv(const gc_loop_fn *f, int loop);
int gc_loop_iter(const gc_loop_fn *f, int loop, int k);
void gc_loop_yield(gc_loop_fn *f, int loop, const int *values);
int gc_loop_result(gc_loop_fn *f, int blk, int loop, int k);
/* A GEMM appended to blk; *id its instruction, whose epilogue block (blk
 * *id) starts with four instructions: IV batch, IV m, IV n (i64) and ITER
 * acc (dt). */
gc_loop_gemm *gc_loop_gemm_new(gc_loop_fn *f, int blk, gc_dtype dt, int *id);

/* Arithmetic on i64 index values with constant folding (a + 0, a * 1,
 * constants combined), so index expressions stay small. */
int gc_loop_iadd(gc_loop_fn *f, int blk, int x, int y);
int gc_loop_imul(gc_loop_fn *f, int blk, int x, int y);
/* The constant an instruction holds, when it is an i64 CONST. */
bool gc_loop_is_index_const(const gc_loop_fn *f, int id, int64_t *v);

/* The text form (for --print-ir-after=lower,split,tile); malloc'd. */
char *gc_loop_print(const gc_loop_fn *f);
/* The same without names (the function's, the buffers', the error texts):
 * what the code depends on, so two kernels that print alike compile to the
 * same object (the key of the kernel cache). */
char *gc_loop_print_code(const gc_loop_fn *f);

/* The text form read back (ir/loop_parse.c): gc_loop_print of the result is
 * `text` again.  The printed ids (%N) are kept; constants (written inline)
 * and what has no printed id get ids after them.  NULL + message with
 * d->line and d->col on bad text.  The result is not verified: see
 * gc_loop_verify. */
gc_loop_fn *gc_loop_parse(const char *text, gc_diag *d);

/* Check the loop IR's invariants (ir/loop_verify.c): every operand an
 * instruction defined before it in an enclosing block (or a constant),
 * buffers and errors in range, loads and stores of their buffer's dtype,
 * stores only into written buffers, each loop's body starting with its
 * induction variable and iter values and ending with a yield of as many
 * values of their dtypes, results of a loop before them, positive steps,
 * divisors not negative.  0, or -1 with a message naming the function and instruction. */
int gc_loop_verify(const gc_loop_fn *f, gc_diag *d);

#endif
