/* VJP rules of the elementwise ops: unary maths, cast, binary arithmetic,
 * max/min, pow and where.  Rules reuse the forward value y where it is
 * cheaper than recomputing (exp, sqrt, tanh, sigmoid, div).  Conventions at
 * kinks are in docs/autodiff.md. */
#include "vjp.h"

#define X(i) (ad_node(c, node)->in[i])
#define Y node

int vjp_neg(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  (void)need, (void)node;
  dx[0] = em_unary(c, GC_OP_NEG, dy);
  return c->failed ? -1 : 0;
}

/* abs'(x) = sign(x), with sign(0) = 0. */
int vjp_abs(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  (void)need;
  int zero = em_const_like(c, 0, dy);
  int neg = em_binary(c, GC_OP_LT, X(0), zero);
  int pos = em_binary(c, GC_OP_LT, zero, X(0));
  dx[0] = em_where(c, neg, em_unary(c, GC_OP_NEG, dy), em_where(c, pos, dy, zero));
  return c->failed ? -1 : 0;
}

int vjp_exp(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  (void)need;
  dx[0] = em_binary(c, GC_OP_MUL, dy, Y);
  return c->failed ? -1 : 0;
}

int vjp_log(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  (void)need;
  dx[0] = em_binary(c, GC_OP_DIV, dy, X(0));
  return c->failed ? -1 : 0;
}

/* d sqrt(x) = 0.5 / y */
int vjp_sqrt(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  (void)need;
  dx[0] = em_binary(c, GC_OP_DIV, em_scale(c, dy, 0.5), Y);
  return c->failed ? -1 : 0;
}

/* d x^-1/2 = -0.5 x^-3/2 = -0.5 y / x */
int vjp_rsqrt(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  (void)need;
  int t = em_binary(c, GC_OP_DIV, em_binary(c, GC_OP_MUL, dy, Y), X(0));
  dx[0] = em_scale(c, t, -0.5);
  return c->failed ? -1 : 0;
}

/* d 1/x = -y^2 */
int vjp_recip(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  (void)need;
  int t = em_binary(c, GC_OP_MUL, dy, em_binary(c, GC_OP_MUL, Y, Y));
  dx[0] = em_unary(c, GC_OP_NEG, t);
  return c->failed ? -1 : 0;
}

/* d tanh = 1 - y^2 */
int vjp_tanh(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  (void)need;
  int one = em_const_like(c, 1, Y);
  int d = em_binary(c, GC_OP_SUB, one, em_binary(c, GC_OP_MUL, Y, Y));
  dx[0] = em_binary(c, GC_OP_MUL, dy, d);
  return c->failed ? -1 : 0;
}

/* d sigmoid = y (1 - y) */
int vjp_sigmoid(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  (void)need;
  int one = em_const_like(c, 1, Y);
  int d = em_binary(c, GC_OP_MUL, Y, em_binary(c, GC_OP_SUB, one, Y));
  dx[0] = em_binary(c, GC_OP_MUL, dy, d);
  return c->failed ? -1 : 0;
}

/* d erf = 2/sqrt(pi) exp(-x^2) */
int vjp_erf(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  (void)need;
  const double two_over_sqrt_pi = 1.1283791670955125739;
  int e = em_unary(c, GC_OP_EXP, em_unary(c, GC_OP_NEG, em_binary(c, GC_OP_MUL, X(0), X(0))));
  dx[0] = em_binary(c, GC_OP_MUL, em_scale(c, dy, two_over_sqrt_pi), e);
  return c->failed ? -1 : 0;
}

int vjp_sin(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  (void)need;
  dx[0] = em_binary(c, GC_OP_MUL, dy, em_unary(c, GC_OP_COS, X(0)));
  return c->failed ? -1 : 0;
}

int vjp_cos(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  (void)need;
  dx[0] = em_unary(c, GC_OP_NEG, em_binary(c, GC_OP_MUL, dy, em_unary(c, GC_OP_SIN, X(0))));
  return c->failed ? -1 : 0;
}

/* float -> float: the gradient is cast back.  (Integer results carry no
 * gradient, so the walk never calls this for them.) */
int vjp_cast(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  (void)need;
  if (gc_dtype_is_float(ad_type(c, X(0))->dtype)) dx[0] = em_cast(c, dy, ad_type(c, X(0))->dtype);
  return c->failed ? -1 : 0;
}

/* ---- binary ---- */

int vjp_add(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  (void)c, (void)node;
  if (need[0]) dx[0] = dy;
  if (need[1]) dx[1] = dy;
  return 0;
}

int vjp_sub(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  (void)node;
  if (need[0]) dx[0] = dy;
  if (need[1]) dx[1] = em_unary(c, GC_OP_NEG, dy);
  return c->failed ? -1 : 0;
}

int vjp_mul(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  if (need[0]) dx[0] = em_binary(c, GC_OP_MUL, dy, X(1));
  if (need[1]) dx[1] = em_binary(c, GC_OP_MUL, dy, X(0));
  return c->failed ? -1 : 0;
}

/* y = a / b:  da = dy / b,  db = -da * y */
int vjp_div(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  int da = em_binary(c, GC_OP_DIV, dy, X(1));
  if (need[0]) dx[0] = da;
  if (need[1]) dx[1] = em_unary(c, GC_OP_NEG, em_binary(c, GC_OP_MUL, da, Y));
  return c->failed ? -1 : 0;
}

/* max/min: the selected operand takes dy; on a tie each takes dy/2. */
static int select_vjp(ad_ctx *c, int node, int dy, const bool *need, int *dx, bool is_max) {
  int a = X(0), b = X(1);
  int a_wins = is_max ? em_binary(c, GC_OP_LT, b, a) : em_binary(c, GC_OP_LT, a, b);
  int b_wins = is_max ? em_binary(c, GC_OP_LT, a, b) : em_binary(c, GC_OP_LT, b, a);
  int zero = em_const_like(c, 0, dy);
  int half = em_scale(c, dy, 0.5);
  if (need[0]) dx[0] = em_where(c, a_wins, dy, em_where(c, b_wins, zero, half));
  if (need[1]) dx[1] = em_where(c, b_wins, dy, em_where(c, a_wins, zero, half));
  return c->failed ? -1 : 0;
}

int vjp_max(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  return select_vjp(c, node, dy, need, dx, true);
}

int vjp_min(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  return select_vjp(c, node, dy, need, dx, false);
}

/* y = a^b:  da = dy b a^(b-1);  db = dy y log(a) for a > 0, and 0 where
 * a <= 0 (log is taken of a safe operand so no NaN is ever computed). */
int vjp_pow(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  int a = X(0), b = X(1);
  int one = em_const_like(c, 1, a);
  if (need[0]) {
    int p = em_binary(c, GC_OP_POW, a, em_binary(c, GC_OP_SUB, b, one));
    dx[0] = em_binary(c, GC_OP_MUL, em_binary(c, GC_OP_MUL, dy, b), p);
  }
  if (need[1]) {
    int zero = em_const_like(c, 0, a);
    int pos = em_binary(c, GC_OP_LT, zero, a);
    int loga = em_unary(c, GC_OP_LOG, em_where(c, pos, a, one));
    int t = em_binary(c, GC_OP_MUL, em_binary(c, GC_OP_MUL, dy, Y), loga);
    dx[1] = em_where(c, pos, t, zero);
  }
  return c->failed ? -1 : 0;
}

/* where(c, a, b): routed with where, never by multiplying with a mask, so an
 * infinite value on the unselected side cannot turn into 0 * inf. */
int vjp_where(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  int zero = em_const_like(c, 0, dy);
  if (need[1]) dx[1] = em_where(c, X(0), dy, zero);
  if (need[2]) dx[2] = em_where(c, X(0), zero, dy);
  return c->failed ? -1 : 0;
}
