/* frontend/builder_internal.h — the builder's state and the helpers its
 * files share (not for users). */
#ifndef GC_BUILDER_INTERNAL_H
#define GC_BUILDER_INTERNAL_H

#include "frontend/builder.h"
#include "ir/rewrite.h"

#define GC_SCOPE_MAX 1024
#define GC_SCOPE_DEPTH 64

struct gc_builder {
  gc_graph *g;
  gc_dtype fdt;                 /* the float dtype */
  char err[1024];               /* first error; empty while fine */
  bool failed;
  gc_emitter em;                /* appends nodes to g; fails with the builder */
  gc_diag em_diag;              /* the emitter's message (an IR rule's) */
  char scope[GC_SCOPE_MAX];     /* "model.layers.3.self_attn" */
  int scope_len[GC_SCOPE_DEPTH];/* scope length before each push */
  int depth;
  const char *label;            /* scope copied into the arena, NULL if stale */
  gc_init_table inits;
  double init_std;
  bool training;
  gc_val train_counter;
  uint64_t train_seed;
  int dropout_sites;            /* dropout calls so far: each gets its own seed */
};

/* The operand's node (callers checked it is not GC_NONE). */
static inline const gc_node *gc_b_node(const gc_builder *b, gc_val v) {
  return b->g->nodes[gc_val_node(v)];
}

/* True when the call must do nothing: an earlier error, or an operand that
 * is GC_NONE / not a node of this graph (recorded as an error of `op`). */
bool gc_b_skip(gc_builder *b, const char *op, int n, const gc_val *xs);

/* Record `op at "label": shapes A and B <detail>` (n operand shapes). */
void gc_b_fail(gc_builder *b, const char *op, int n, const gc_val *xs, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Append a node (labelled with the scope); on an IR rule failure records
 * `op at "label": <rule message>`.  `op` is the user-facing name. */
gc_val gc_b_emit(gc_builder *b, const char *op, gc_op ir, int n, const gc_val *in,
                 const gc_attrs *attrs, const gc_type *declared);

/* GC_FLOATX -> the builder's float dtype. */
static inline gc_dtype gc_b_dtype(const gc_builder *b, gc_dtype dt) {
  return dt == GC_FLOATX ? b->fdt : dt;
}

/* Normalise a possibly negative axis; -1 when out of range. */
static inline int gc_b_axis(int axis, int rank) {
  if (axis < 0) axis += rank;
  return axis >= 0 && axis < rank ? axis : -1;
}

#endif
