/* Source ops: input, param (copies of the caller's tensors), const, iota. */
#include "backends/interp/kernels.h"

#include <string.h>

static int copy_source(const interp_call *c) {
  if (!c->source) return interp_node_error(c, "no tensor was given");
  memcpy(c->out->data, c->source->data, gc_tensor_bytes(c->out));
  return 0;
}

int interp_kernel_input(const interp_call *c) { return copy_source(c); }
int interp_kernel_param(const interp_call *c) { return copy_source(c); }

int interp_kernel_const(const interp_call *c) {
  interp_fill(c->out, c->node->attrs.value.value);
  return 0;
}

int interp_kernel_iota(const interp_call *c) {
  const gc_type *t = &c->out->type;
  int64_t axis = c->node->attrs.axis.axis, inner = 1;
  if (axis < 0 || axis >= t->rank) return interp_node_error(c, "axis %lld is out of range", (long long)axis);
  for (int i = (int)axis + 1; i < t->rank; i++) inner *= t->dims[i];
  int64_t n = gc_tensor_numel(c->out), len = t->dims[axis];
  for (int64_t i = 0; i < n; i++) gc_tensor_store(c->out, i, (double)((i / inner) % len));
  return 0;
}
