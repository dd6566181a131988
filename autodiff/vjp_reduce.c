/* VJP rules of the reductions.  reduce_max routes the gradient to every
 * maximal element, split equally among ties (docs/autodiff.md). */
#include "vjp.h"

#define X(i) (ad_node(c, node)->in[i])

int vjp_reduce_sum(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  (void)need;
  dx[0] = em_unreduce(c, dy, ad_type(c, X(0)), &ad_node(c, node)->attrs.reduce.axes);
  return c->failed ? -1 : 0;
}

/* mask = (x == max), count = sum(mask), dx = where(mask, dy / count, 0).
 * The mask is a compare, so it carries no gradient of its own: the second
 * derivative treats the selection as fixed, as it is away from ties. */
int vjp_reduce_max(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  (void)need;
  const gc_attrs_reduce *r = &ad_node(c, node)->attrs.reduce;
  const gc_type *xt = ad_type(c, X(0));
  int mask = em_binary(c, GC_OP_EQ, X(0), em_unreduce(c, node, xt, &r->axes));
  int count = em_reduce_sum(c, em_cast(c, mask, xt->dtype), &r->axes, r->keepdims);
  int share = em_unreduce(c, em_binary(c, GC_OP_DIV, dy, count), xt, &r->axes);
  dx[0] = em_where(c, mask, share, em_const_like(c, 0, X(0)));
  return c->failed ? -1 : 0;
}
