/* VJP rule of call: the VJP registered with the callee (gc_register_call),
 * a function adding the backward nodes to the graph; a call without one is
 * not differentiable, and reaching it is an error naming it. */
#include "vjp.h"
#include "backends/runtime/call.h"

int vjp_call(ad_ctx *c, int node, int dy, const bool *need, int *dx) {
  const gc_node *n = ad_node(c, node);
  void *user_data;
  gc_call_vjp_fn *vjp = gc_call_vjp_of(n->attrs.call.callee, &user_data);
  if (!vjp)
    return gc_emitter_fail(&c->em, "call @%s %%%d has no VJP: cannot differentiate through it (register one with "
                           "gc_register_call, or stop_gradient its operands)", n->attrs.call.callee, node);
  int n_in = n->n_in, got[64];
  for (int i = 0; i < n_in; i++) got[i] = -1;
  gc_diag why = {0};
  if (vjp(c->g, node, dy, got, user_data, &why))
    return gc_emitter_fail(&c->em, "the VJP of call @%s %%%d: %s", n->attrs.call.callee, node, why.msg);
  n = ad_node(c, node);   /* the graph's node array may have moved */
  for (int i = 0; i < n_in; i++) {
    if (!need[i] || got[i] < 0) continue;
    const gc_type *want = ad_type(c, n->in[i]);
    if (got[i] >= c->g->n_nodes || !gc_type_equal(ad_type(c, got[i]), want)) {
      char b[GC_TYPE_STR_MAX];
      return gc_emitter_fail(&c->em, "the VJP of call @%s %%%d gave operand %d an adjoint that is not a %s value",
                             n->attrs.call.callee, node, i, gc_type_str(want, b, sizeof b));
    }
    dx[i] = got[i];
  }
  return 0;
}
