/* VJP rules of the collectives.  Rank r's loss reads y_r; every y_r is the
 * sum of every rank's x, so the gradient of x_s is the sum over ranks of
 * their dy: an all_reduce (a mean's is the mean).  reduce_scatter and
 * all_gather are each the other's adjoint. */
#include "vjp.h"

int vjp_all_reduce(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  if (need[0]) dx[0] = em_node(c, GC_OP_ALL_REDUCE, &dy, 1, &ad_node(c, node)->attrs, NULL);
  return c->failed ? -1 : 0;
}

int vjp_reduce_scatter(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  if (need[0]) dx[0] = em_node(c, GC_OP_ALL_GATHER, &dy, 1, NULL, ad_type(c, ad_node(c, node)->in[0]));
  return c->failed ? -1 : 0;
}

int vjp_all_gather(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  if (need[0]) dx[0] = em_node(c, GC_OP_REDUCE_SCATTER, &dy, 1, NULL, ad_type(c, ad_node(c, node)->in[0]));
  return c->failed ? -1 : 0;
}
