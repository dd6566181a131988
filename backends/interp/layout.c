/* Layout ops: broadcast, reshape, transpose, slice, concat, pad.  Each is one
 * strided copy: a box of `dims` elements read from the source and written to
 * the destination, each side addressed by its own element strides (0 repeats
 * an element: broadcast).  The walk is O(elements). */
#include "backends/interp/kernels.h"

#include <string.h>

#define ROW_LOOP(T)                                                      \
  do {                                                                   \
    T *d_ = dst;                                                         \
    const T *s_ = src;                                                   \
    for (int64_t i = 0; i < len; i++) d_[i * dstride] = s_[i * sstride]; \
  } while (0)

static void copy_row(void *dst, int64_t dstride, const void *src, int64_t sstride, int64_t len,
                     size_t es) {
  switch (es) {
  case 1: ROW_LOOP(uint8_t); break;
  case 4: ROW_LOOP(uint32_t); break;
  case 8: ROW_LOOP(uint64_t); break;
  default:
    for (int64_t i = 0; i < len; i++)
      memcpy((char *)dst + i * dstride * (int64_t)es, (const char *)src + i * sstride * (int64_t)es, es);
  }
}

typedef struct {
  int rank;
  int64_t dims[GC_MAX_RANK];
  int64_t dst_strides[GC_MAX_RANK], src_strides[GC_MAX_RANK];
  int64_t dst_offset, src_offset;   /* in elements */
} box_copy;

static void run_box_copy(const box_copy *b, void *dst, const void *src, size_t es) {
  int64_t n = 1;
  for (int i = 0; i < b->rank; i++) n *= b->dims[i];
  if (n == 0) return;
  char *d = (char *)dst + b->dst_offset * (int64_t)es;
  const char *s = (const char *)src + b->src_offset * (int64_t)es;
  if (b->rank == 0) {
    memcpy(d, s, es);
    return;
  }
  int last = b->rank - 1;
  int64_t idx[GC_MAX_RANK] = {0}, doff = 0, soff = 0;
  for (;;) {
    copy_row(d + doff * (int64_t)es, b->dst_strides[last], s + soff * (int64_t)es,
             b->src_strides[last], b->dims[last], es);
    int k = last - 1;
    for (; k >= 0; k--) {   /* odometer over the outer dims */
      doff += b->dst_strides[k];
      soff += b->src_strides[k];
      if (++idx[k] < b->dims[k]) break;
      doff -= b->dst_strides[k] * b->dims[k];
      soff -= b->src_strides[k] * b->dims[k];
      idx[k] = 0;
    }
    if (k < 0) return;
  }
}

/* A box covering `t`, written contiguously into a tensor of type t. */
static box_copy box_into(const gc_type *t) {
  box_copy b;
  memset(&b, 0, sizeof b);
  b.rank = t->rank;
  for (int i = 0; i < t->rank; i++) b.dims[i] = t->dims[i];
  interp_strides(t, b.dst_strides);
  return b;
}

static size_t elsize(const interp_call *c) { return gc_dtype_size(c->out->type.dtype); }

int interp_kernel_broadcast(const interp_call *c) {
  const gc_type *x = &c->in[0]->type, *y = &c->out->type;
  int64_t xs[GC_MAX_RANK];
  box_copy b = box_into(y);
  interp_strides(x, xs);
  for (int i = 0; i < y->rank; i++) {
    int j = i - (y->rank - x->rank);
    b.src_strides[i] = j < 0 || x->dims[j] == 1 ? 0 : xs[j];
  }
  run_box_copy(&b, c->out->data, c->in[0]->data, elsize(c));
  return 0;
}

int interp_kernel_reshape(const interp_call *c) {
  memcpy(c->out->data, c->in[0]->data, gc_tensor_bytes(c->out));
  return 0;
}

/* A copy: stop_gradient only matters to autodiff. */
int interp_kernel_stop_gradient(const interp_call *c) { return interp_kernel_reshape(c); }

int interp_kernel_transpose(const interp_call *c) {
  const gc_ilist *perm = &c->node->attrs.perm.perm;
  int64_t xs[GC_MAX_RANK];
  box_copy b = box_into(&c->out->type);
  interp_strides(&c->in[0]->type, xs);
  for (int i = 0; i < b.rank; i++) b.src_strides[i] = xs[perm->v[i]];
  run_box_copy(&b, c->out->data, c->in[0]->data, elsize(c));
  return 0;
}

int interp_kernel_slice(const interp_call *c) {
  const gc_attrs_slice *s = &c->node->attrs.slice;
  int64_t xs[GC_MAX_RANK];
  box_copy b = box_into(&c->out->type);
  interp_strides(&c->in[0]->type, xs);
  for (int i = 0; i < b.rank; i++) {
    int64_t step = s->step.n ? s->step.v[i] : 1;
    b.src_offset += s->start.v[i] * xs[i];
    b.src_strides[i] = xs[i] * step;
  }
  run_box_copy(&b, c->out->data, c->in[0]->data, elsize(c));
  return 0;
}

/* Operand k lands at its running offset along the axis. */
int interp_kernel_concat(const interp_call *c) {
  int64_t axis = c->node->attrs.axis.axis, at = 0, ys[GC_MAX_RANK];
  interp_strides(&c->out->type, ys);
  for (int k = 0; k < c->node->n_in; k++) {
    const gc_tensor *x = c->in[k];
    box_copy b = box_into(&x->type);
    interp_strides(&x->type, b.src_strides);
    for (int i = 0; i < b.rank; i++) b.dst_strides[i] = ys[i];
    b.dst_offset = at * ys[axis];
    run_box_copy(&b, c->out->data, x->data, elsize(c));
    at += x->type.dims[axis];
  }
  return 0;
}

/* Fill with the value, then copy the operand into the interior. */
int interp_kernel_pad(const interp_call *c) {
  const gc_attrs_pad *p = &c->node->attrs.pad;
  const gc_tensor *x = c->in[0];
  int64_t ys[GC_MAX_RANK];
  interp_fill(c->out, p->value);
  interp_strides(&c->out->type, ys);
  box_copy b = box_into(&x->type);
  interp_strides(&x->type, b.src_strides);
  for (int i = 0; i < b.rank; i++) {
    b.dst_strides[i] = ys[i];
    b.dst_offset += p->lo.v[i] * ys[i];
  }
  run_box_copy(&b, c->out->data, x->data, elsize(c));
  return 0;
}
