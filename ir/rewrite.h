/* ir/rewrite.h — helpers for code that builds or rewrites graphs.
 *
 * gc_emitter appends nodes with sticky errors: the first failure is recorded
 * and every later call does nothing and returns -1, so a caller can chain
 * many emits and check once.  autodiff/ and the C builder emit through it.
 *
 * gc_rebuild makes a new graph from an old one, the way a pass rewrites: it
 * walks the old nodes, copies most of them (operands remapped, label and
 * source position kept), emits replacements for others and maps each old id
 * to the new id that stands for it; finishing re-binds outputs and updates
 * through that map.
 *
 *   gc_rebuild r;
 *   gc_rebuild_begin(&r, g, d);
 *   for (int i = 0; i < g->n_nodes; i++)
 *     if (is_mul_by_one(g, i))                      // x * 1 -> x
 *       gc_rebuild_map(&r, i, gc_rebuild_id(&r, g->nodes[i]->in[0]));
 *     else
 *       gc_rebuild_copy(&r, i);
 *   gc_graph *out = gc_rebuild_finish(&r);          // NULL: message in d
 *
 * Old nodes nothing maps are dropped; a copied node or a binding that needs
 * one is an error.  The old graph is only read. */
#ifndef GC_IR_REWRITE_H
#define GC_IR_REWRITE_H

#include "ir.h"

/* ---- sticky emitting --------------------------------------------------- */

/* Caller-owned; points at a graph and a diag it does not own. */
typedef struct {
  gc_graph *g;    /* nodes are appended here */
  gc_diag *d;     /* the first error's message (may be NULL) */
  bool failed;    /* set by the first error; nothing is emitted after it */
} gc_emitter;

void gc_emitter_init(gc_emitter *e, gc_graph *g, gc_diag *d);

/* gc_graph_add, unless the emitter has failed or an operand id is < 0 ("OP:
 * operand K is missing"): then -1 and the graph is untouched.  A failing
 * add records its message and fails the emitter. */
int gc_emit(gc_emitter *e, gc_op op, const int *in, int n_in, const gc_attrs *attrs,
            const gc_type *declared);

/* Fail the emitter with a message of the caller's (kept only when it is the
 * first error).  Returns -1. */
int gc_emitter_fail(gc_emitter *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- rebuilding a graph ------------------------------------------------ */

/* Caller-owned; the map is allocated by gc_rebuild_begin and released by
 * gc_rebuild_finish, which also hands over (or frees) the new graph. */
typedef struct {
  const gc_graph *old;
  gc_emitter em;  /* em.g is the new graph; em.d and em.failed as above */
  int *map;       /* old id -> new id; -1 while it has none */
  int *like;      /* old id -> the latest node emitted like it; -1 */
} gc_rebuild;

/* Start a new, empty graph named as `old`.  Returns 0, or -1 (out of memory)
 * with r failed and holding nothing: the caller may return at once, or go on
 * (later calls do nothing and finish returns NULL). */
int gc_rebuild_begin(gc_rebuild *r, const gc_graph *old, gc_diag *d);

/* Copy old node `old_id` (op, attributes, type, label, position) with its
 * operands mapped, and map old_id to the copy.  The copy's type must equal
 * the old one's, so replacements must keep types.  Returns the new id. */
int gc_rebuild_copy(gc_rebuild *r, int old_id);

/* Emit a new node whose operands `in` are NEW ids, taking label and position
 * from old node `like` (-1: none).  It maps nothing.  Returns the new id. */
int gc_rebuild_emit(gc_rebuild *r, int like, gc_op op, const int *in, int n_in,
                    const gc_attrs *attrs, const gc_type *declared);

/* Make new node `new_id` stand for old node `old_id` (replacing any earlier
 * mapping).  Returns 0, or -1 when an id is out of range (r fails). */
int gc_rebuild_map(gc_rebuild *r, int old_id, int new_id);

/* The new id standing for old node `old_id`; -1 if none (or out of range). */
int gc_rebuild_id(const gc_rebuild *r, int old_id);

/* Bind the old graph's outputs and updates, in order, to the new ids of
 * their nodes.  Returns the new graph, which the caller owns
 * (gc_graph_free), or NULL with the first error in d.  Either way r's map is
 * released and r must not be used again. */
gc_graph *gc_rebuild_finish(gc_rebuild *r);

#endif
