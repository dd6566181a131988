/* call: the user's function (backends/runtime/call.h) called on the
 * operands' buffers: the site the program prepared (backend.c), else one
 * resolved for this run (gc_interp_eval). */
#include "backends/interp/kernels.h"
#include "backends/runtime/call.h"

int interp_kernel_call(const interp_call *c) {
  const gc_type *types[INTERP_MAX_OPERANDS];
  const void *in[INTERP_MAX_OPERANDS];
  for (int i = 0; i < c->node->n_in; i++) types[i] = &c->in[i]->type, in[i] = c->in[i]->data;
  if (c->call_site) return gc_call_site_run(c->call_site, in, c->out->data, c->d);
  gc_call_site *s = gc_call_site_new(c->node, c->id, types, c->d);
  if (!s) return -1;
  int rc = gc_call_site_run(s, in, c->out->data, c->d);
  gc_call_site_free(s);
  return rc;
}
