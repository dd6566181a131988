/* The VJP table, generated from ir/ops.def: `[GC_OP_<ID>] = vjp_<name>`, so
 * an op added to the table without a rule here does not compile.  Ops that
 * carry no gradient are mapped to vjp_none explicitly below. */
#include "autodiff.h"
#include "vjp.h"

/* No gradient flows through these: sources, integer/bool results, and ops
 * whose value does not depend smoothly on a float operand. */
#define vjp_input vjp_none
#define vjp_param vjp_none
#define vjp_const vjp_none
#define vjp_iota vjp_none
#define vjp_rand_uniform vjp_none
#define vjp_lt vjp_none
#define vjp_le vjp_none
#define vjp_eq vjp_none
#define vjp_ne vjp_none
#define vjp_argmax vjp_none
#define vjp_stop_gradient vjp_none

static vjp_fn *const vjp_table[GC_OP_COUNT] = {
#define GC_OP(ID, name, arity, attrs, rule) [GC_OP_##ID] = vjp_##name,
#include "ir/ops.def"
#undef GC_OP
};

int vjp_none(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  (void)c, (void)node, (void)dy, (void)need, (void)dx;
  return 0;
}

vjp_fn *ad_vjp_of(gc_op op) {
  if ((unsigned)op >= GC_OP_COUNT || vjp_table[op] == vjp_none) return NULL;
  return vjp_table[op];
}

bool gc_autodiff_covers_all_ops(void) {
  for (int i = 0; i < GC_OP_COUNT; i++)
    if (!vjp_table[i]) return false;
  return true;
}
