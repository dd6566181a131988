/* VJP rules of the layout ops: each adjoint is the inverse movement of the
 * gradient (sum for broadcast, inverse permutation for transpose, padding
 * for slice, slicing for pad and concat). */
#include "vjp.h"

#define X(i) (ad_node(c, node)->in[i])

/* The adjoint of broadcast is a sum over the broadcast axes. */
int vjp_broadcast(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  (void)need;
  dx[0] = em_sum_to(c, dy, ad_type(c, X(0)));
  return c->failed ? -1 : 0;
}

int vjp_reshape(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  (void)need;
  dx[0] = em_reshape(c, dy, ad_type(c, X(0)));
  return c->failed ? -1 : 0;
}

int vjp_transpose(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  (void)need;
  const gc_ilist *p = &ad_node(c, node)->attrs.perm.perm;
  gc_ilist inv = {.n = p->n};
  for (int i = 0; i < p->n; i++) inv.v[p->v[i]] = i;
  dx[0] = em_transpose(c, dy, &inv);
  return c->failed ? -1 : 0;
}

/* Spread dy (n elements along `axis`) to positions start, start+step, ... of
 * an axis of length `len`: scatter_add at indices iota*step + start. */
static int spread_axis(ad_ctx *c, int dy, int axis, int64_t start, int64_t step, int64_t len) {
  const gc_type *t = ad_type(c, dy);
  gc_type it = gc_type_make(GC_I64, 1, &t->dims[axis]);
  int idx = em_iota(c, &it, 0);
  idx = em_binary(c, GC_OP_MUL, idx, em_const(c, (double)step, &it));
  if (start) idx = em_binary(c, GC_OP_ADD, idx, em_const(c, (double)start, &it));
  gc_type out = *t;
  out.dims[axis] = len;
  return em_scatter_add(c, idx, dy, axis, &out);
}

/* Strided axes are spread with scatter_add (the adjoint of the gather a
 * strided slice is); the remaining unit-step axes are zero-padded. */
int vjp_slice(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  (void)need;
  const gc_attrs_slice *s = &ad_node(c, node)->attrs.slice;
  const gc_type *xt = ad_type(c, X(0));
  gc_ilist lo = {.n = xt->rank}, hi = {.n = xt->rank};
  bool any_pad = false;
  int g = dy;
  for (int i = 0; i < xt->rank; i++) {
    int64_t step = s->step.n ? s->step.v[i] : 1;
    int64_t n = ad_type(c, node)->dims[i];
    if (step > 1 && n > 1) {
      g = spread_axis(c, g, i, s->start.v[i], step, xt->dims[i]);
      continue;
    }
    lo.v[i] = s->start.v[i];
    hi.v[i] = xt->dims[i] - s->start.v[i] - n;
    any_pad |= lo.v[i] || hi.v[i];
  }
  dx[0] = any_pad ? em_pad(c, g, &lo, &hi) : g;
  return c->failed ? -1 : 0;
}

int vjp_pad(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  (void)need;
  const gc_attrs_pad *p = &ad_node(c, node)->attrs.pad;
  const gc_type *xt = ad_type(c, X(0));
  gc_ilist start = {.n = xt->rank}, stop = {.n = xt->rank};
  for (int i = 0; i < xt->rank; i++) {
    start.v[i] = p->lo.v[i];
    stop.v[i] = p->lo.v[i] + xt->dims[i];
  }
  dx[0] = em_slice(c, dy, &start, &stop, NULL);
  return c->failed ? -1 : 0;
}

int vjp_concat(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  const gc_node *n = ad_node(c, node);
  int64_t axis = n->attrs.axis.axis, off = 0;
  const gc_type *yt = ad_type(c, node);
  for (int k = 0; k < n->n_in; k++) {
    int64_t len = ad_type(c, n->in[k])->dims[axis];
    if (need[k]) {
      gc_ilist start = {.n = yt->rank}, stop = {.n = yt->rank};
      for (int i = 0; i < yt->rank; i++) stop.v[i] = yt->dims[i];
      start.v[axis] = off;
      stop.v[axis] = off + len;
      dx[k] = em_slice(c, dy, &start, &stop, NULL);
    }
    off += len;
  }
  return c->failed ? -1 : 0;
}
