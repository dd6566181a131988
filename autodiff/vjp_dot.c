/* VJP rule of dot.  With A = op(a), B = op(b) (op: the optional swap of the
 * last two dims) and Y = A B:  dA = dY B^T,  dB = A^T dY.  Each is written as
 * one dot with transpose flags straight on a, b and dY, in a's (b's) own
 * layout; batch dims a or b was broadcast along are then summed away. */
#include "vjp.h"

#define X(i) (ad_node(c, node)->in[i])

int vjp_dot(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  const gc_attrs_dot *at = &ad_node(c, node)->attrs.dot;
  bool ta = at->transpose_a, tb = at->transpose_b;
  int a = X(0), b = X(1);
  if (need[0]) {
    /* a = A:   dY B^T         a = A^T: (dY B^T)^T = B dY^T */
    int da = ta ? em_dot(c, b, dy, tb, true) : em_dot(c, dy, b, false, !tb);
    dx[0] = em_sum_to(c, da, ad_type(c, a));
  }
  if (need[1]) {
    /* b = B:   A^T dY         b = B^T: (A^T dY)^T = dY^T A */
    int db = tb ? em_dot(c, dy, a, true, ta) : em_dot(c, a, dy, !ta, false);
    dx[1] = em_sum_to(c, db, ad_type(c, b));
  }
  return c->failed ? -1 : 0;
}
