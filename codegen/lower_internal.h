/* codegen/lower_internal.h — what the lowering's files share (lower.c: the
 * kernel shapes; lower_eval.c: a node's value at a coordinate). */
#ifndef GC_CODEGEN_LOWER_INTERNAL_H
#define GC_CODEGEN_LOWER_INTERNAL_H

#include "codegen/lower.h"

typedef struct {
  int node, rank, depth;
  int coords[GC_MAX_RANK];
  int inst;
  unsigned hash;
  int older;               /* the previous entry in its hash bucket, -1 */
} lw_memo;

/* A node being computed by lw_eval (its explicit stack). */
typedef struct {
  int id;                  /* the node */
  int c[GC_MAX_RANK];      /* at these coordinates */
  bool started;
  int k;                   /* the operand it reads (read last) */
  int in[3];               /* elementwise: its operands' values */
  int valid;               /* pad: the in-bounds test, -1: always */
  int v;                   /* concat: the value so far, -1 */
  int64_t offset;          /* concat: where operand k starts */
} lw_frame;

/* Loops nested deeper than this in one kernel are refused (a reduction
 * read inside another's loops nests them). */
enum { LW_MAX_DEPTH = 256 };

/* An index value as Σ coef·var + c over loop variables with known ranges
 * [0, extent), so that the div/mod a reshape needs can be simplified. */
enum { LW_TERMS = 8 };
typedef struct {
  bool ok;
  int n;
  int var[LW_TERMS];          /* loop variable instructions */
  int64_t coef[LW_TERMS];
  int64_t c;
} lw_affine;

typedef struct {
  const gc_graph *g;
  gc_loop_fn *f;
  lw_affine *aff;         /* per instruction (grown with f->n_insts) */
  int64_t *extent;        /* per loop variable instruction; 0: unknown */
  int cap_aff;
  bool *inside;           /* node is computed in this kernel */
  int *buffer;            /* node -> loop buffer, -1 */
  int *buffer_nodes;      /* buffer -> node (handed to the caller) */
  int cap_buffer_nodes;
  lw_memo *memo;
  int n_memo, cap_memo;
  int *bucket, n_buckets;   /* the memo's hash buckets: newest entry, -1 */
  lw_frame *frames;         /* lw_eval's stack */
  int n_frames, cap_frames;
  int depth;              /* loop nesting while emitting */
  int blk;                /* the block being emitted into */
  int64_t *const_vals;    /* canonical i64 constants */
  int *const_insts;
  int n_consts, cap_consts;
  gc_diag *d;
  bool failed;
} lowerer;

/* The value of node `id` at coordinates c[rank(id)] (loop IR values),
 * emitted into L->blk; memoized for the loop depth it was made at. */
int lw_eval(lowerer *L, int id, const int *c);
/* Remember `inst` as node id's value at c (e.g. a finished reduction). */
void lw_memo_put(lowerer *L, int id, const int *c, int inst);
/* Forget values made deeper than L->depth (a loop was closed). */
void lw_memo_pop(lowerer *L);

/* A loop variable ranging over [0, extent). */
void lw_note_var(lowerer *L, int iv, int64_t extent);

/* Canonical i64 constants (one instruction per value) and index
 * arithmetic on them (simplified through their affine forms). */
int lw_const(lowerer *L, int64_t v);
int lw_add(lowerer *L, int a, int b);
int lw_mul(lowerer *L, int a, int b);
int lw_div(lowerer *L, int a, int64_t c);
int lw_mod(lowerer *L, int a, int64_t c);
/* Σ c[i]·strides[i]. */
int lw_linear(lowerer *L, const int *c, const int64_t *strides, int rank);
/* c (coordinates in shape `from`) as coordinates in shape `to` of the same
 * element count, row-major: direct when the shapes agree but for size-1
 * dims, else through the linear index. */
void lw_recoord(lowerer *L, const gc_type *from, const int *c, const gc_type *to, int *out);

/* A reduction's value at its own coordinates, its loops emitted in place
 * (lower.c). */
int lw_reduce_at(lowerer *L, int r, const int *c);

/* Room for n entries in L->buffer_nodes (new ones -1: no node). */
void lw_reserve_buffer_nodes(lowerer *L, int n);

/* The loop buffer holding node id's value (made on first use). */
int lw_buffer(lowerer *L, int id, bool written);

int lw_fail(lowerer *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
