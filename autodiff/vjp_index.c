/* VJP rules of gather and scatter_add, each the other's adjoint.  The
 * indices are integers and get no gradient. */
#include "vjp.h"

#define X(i) (ad_node(c, node)->in[i])

int vjp_gather(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  if (need[0])
    dx[0] = em_scatter_add(c, X(1), dy, ad_node(c, node)->attrs.axis.axis, ad_type(c, X(0)));
  return c->failed ? -1 : 0;
}

int vjp_scatter_add(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  if (need[1]) dx[1] = em_gather(c, dy, X(0), ad_node(c, node)->attrs.axis.axis);
  return c->failed ? -1 : 0;
}
