/* VJP rule of dot.  With A = op(a), B = op(b) (op: the optional swap of the
 * last two dims) and Y = A B:  dA = dY B^T,  dB = A^T dY.  Each is written as
 * one dot with transpose flags straight on a, b and dY, in a's (b's) own
 * layout; batch dims a or b was broadcast along are then summed away. */
#include "vjp.h"

#define X(i) (ad_node(c, node)->in[i])

/* x [..., R, C] as [prod(...) * R, C]. */
static int rows(ad_ctx *c, int x) {
  gc_type t = *ad_type(c, x);
  int64_t r = 1;
  for (int k = 0; k < t.rank - 1; k++) r *= t.dims[k];
  gc_type flat = gc_type_make(t.dtype, 2, (int64_t[]){r, t.dims[t.rank - 1]});
  return em_reshape(c, x, &flat);
}

/* The gradient of a 2-D b shared by every batch of a (a linear layer:
 * x [B, T, C] times W): the batch's sum of A^T dY is one dot over the
 * flattened rows, not a batched dot and a sum.  -1 when the shapes are
 * not of that kind. */
static int shared_operand_grad(ad_ctx *c, int a, int b, int dy, bool ta, bool tb) {
  if (ta || ad_type(c, b)->rank != 2 || ad_type(c, a)->rank < 3) return -1;
  int a2 = rows(c, a), dy2 = rows(c, dy);
  /* b = B: A^T dY;  b = B^T: dY^T A */
  return tb ? em_dot(c, dy2, a2, true, false) : em_dot(c, a2, dy2, true, false);
}

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
    int db = shared_operand_grad(c, a, b, dy, ta, tb);
    if (db < 0) db = tb ? em_dot(c, dy, a, true, ta) : em_dot(c, a, dy, !ta, false);
    dx[1] = em_sum_to(c, db, ad_type(c, b));
  }
  return c->failed ? -1 : 0;
}
