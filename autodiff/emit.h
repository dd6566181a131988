/* autodiff/emit.h — internal: small node-emitting helpers the VJP rules use.
 *
 * Every helper appends one (or a few) nodes to the graph and returns the new
 * node id.  Errors are sticky (ir/rewrite.h's gc_emitter): once an emit fails
 * (or is given an operand of -1) the context is marked failed, the message
 * sits in c->d, and every later helper returns -1 without touching the graph.
 * Rules can therefore chain helpers freely and check once at the end. */
#ifndef GC_AUTODIFF_EMIT_H
#define GC_AUTODIFF_EMIT_H

#include "ir/ir.h"
#include "ir/rewrite.h"

#define AD_CONST_CACHE 64

typedef struct {
  /* The emitter, also readable as c->g, c->d and c->failed (the same three
   * members in the same order; only the emitter writes them). */
  union {
    gc_emitter em;
    struct {
      gc_graph *g;
      gc_diag *d;
      bool failed;
    };
  };
  /* Constants emitted during this backward pass, reused by value and type so
   * the backward graph holds one `const 0 : T` per type, not one per rule. */
  int n_consts;
  struct {
    gc_type type;
    double value;
    int node;
  } consts[AD_CONST_CACHE];
} ad_ctx;

void ad_init(ad_ctx *c, gc_graph *g, gc_diag *d);

static inline const gc_type *ad_type(const ad_ctx *c, int id) { return &c->g->nodes[id]->type; }
static inline const gc_node *ad_node(const ad_ctx *c, int id) { return c->g->nodes[id]; }

/* The raw emitter: gc_emit, with autodiff's message for a missing operand. */
int em_node(ad_ctx *c, gc_op op, const int *in, int n_in, const gc_attrs *a, const gc_type *declared);

int em_const(ad_ctx *c, double value, const gc_type *t);  /* cached per (value, type) */
int em_const_like(ad_ctx *c, double value, int like);     /* const of like's type */
int em_unary(ad_ctx *c, gc_op op, int x);
int em_binary(ad_ctx *c, gc_op op, int a, int b);
int em_scale(ad_ctx *c, int x, double k);                 /* x * const k */
int em_where(ad_ctx *c, int cond, int a, int b);
int em_cast(ad_ctx *c, int x, gc_dtype dt);               /* x itself if already dt */
int em_broadcast(ad_ctx *c, int x, const gc_type *t);     /* x itself if same type */
int em_reshape(ad_ctx *c, int x, const gc_type *t);       /* x itself if same type */
int em_transpose(ad_ctx *c, int x, const gc_ilist *perm);
int em_slice(ad_ctx *c, int x, const gc_ilist *start, const gc_ilist *stop, const gc_ilist *step);
int em_pad(ad_ctx *c, int x, const gc_ilist *lo, const gc_ilist *hi);
int em_reduce_sum(ad_ctx *c, int x, const gc_ilist *axes, bool keepdims);
int em_dot(ad_ctx *c, int a, int b, bool transpose_a, bool transpose_b);
int em_gather(ad_ctx *c, int table, int idx, int64_t axis);
int em_scatter_add(ad_ctx *c, int idx, int src, int64_t axis, const gc_type *t);
int em_iota(ad_ctx *c, const gc_type *t, int64_t axis);

/* The adjoint of broadcasting: sum x over the axes along which `target` was
 * broadcast to x's shape (numpy rule), then reshape to `target`. */
int em_sum_to(ad_ctx *c, int x, const gc_type *target);

/* The adjoint of a reduction over `axes`: bring a reduced value back to the
 * shape `full` (reshape to keepdims form when needed, then broadcast). */
int em_unreduce(ad_ctx *c, int x, const gc_type *full, const gc_ilist *axes);

#endif
