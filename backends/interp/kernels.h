/* backends/interp/kernels.h — internal to the interpreter: the calling
 * convention of op kernels and the helpers they share.
 *
 * A kernel computes one node.  Its operands' values are in `in`, its result
 * tensor is already allocated (zeroed) with the node's type; it fills it and
 * returns 0, or returns -1 with a message naming the node (interp_node_error).
 * A kernel allocates nothing: workspace comes in `scratch`. */
#ifndef GC_INTERP_KERNELS_H
#define GC_INTERP_KERNELS_H

#include "backends/interp/interp.h"

#define INTERP_MAX_OPERANDS 64

typedef struct {
  const gc_node *node;
  int id;                                  /* the node's id, for messages */
  const gc_tensor *in[INTERP_MAX_OPERANDS];
  const gc_tensor *source;                 /* input/param: the caller's tensor */
  gc_tensor *out;
  void *scratch;                           /* interp_scratch_bytes(node) bytes */
  const struct gc_comm *comm;              /* collectives' communicator; NULL: one process */
  const struct gc_call_site *call_site;    /* a call prepared when the program was
                                            * made, or NULL: resolved for this run */
  gc_diag *d;
} interp_call;

typedef int interp_kernel(const interp_call *c);

/* One kernel per op of ops.def: interp_kernel_add, interp_kernel_dot, ... */
#define GC_OP(ID, name, arity, attrs, rule) int interp_kernel_##name(const interp_call *c);
#include "ir/ops.def"
#undef GC_OP

/* Workspace a node's kernel needs beside its operands and result (run.c);
 * the caller passes that much in interp_call.scratch. */
size_t interp_scratch_bytes(const gc_graph *g, int id);

/* Run node `id` of g: c->node, c->id, c->in, c->out (zeroed), c->scratch,
 * c->source (input/param) and c->d filled by the caller. */
int interp_run_node(const interp_call *c);

/* run.c: "OP %ID ("label"): MESSAGE" into c->d; returns -1. */
int interp_node_error(const interp_call *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Row-major element strides of t (innermost stride 1). */
static inline void interp_strides(const gc_type *t, int64_t *strides) {
  int64_t s = 1;
  for (int i = t->rank - 1; i >= 0; i--) {
    strides[i] = s;
    s *= t->dims[i];
  }
}

/* Every element of t set to v converted to t's dtype with cast semantics
 * (ir/scalar.h: float->int truncates toward zero, saturates, NaN -> 0;
 * bool is v != 0). */
void interp_fill(gc_tensor *t, double v);

/* random.c: one Philox4x32-10 block. */
void interp_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

#endif
