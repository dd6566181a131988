/* The collectives (all_reduce, reduce_scatter, all_gather): one call to the
 * communicator (backends/runtime/comm.h), the call the llvm backend's
 * runtime makes too. */
#include "backends/interp/kernels.h"
#include "backends/runtime/comm.h"

static int collective(const interp_call *c) {
  gc_diag d = {0};
  if (gc_comm_run_node(c->comm, c->node, &c->in[0]->type, c->in[0]->data, c->out->data, &d))
    return interp_node_error(c, "%s", d.msg);
  return 0;
}

int interp_kernel_all_reduce(const interp_call *c) { return collective(c); }
int interp_kernel_reduce_scatter(const interp_call *c) { return collective(c); }
int interp_kernel_all_gather(const interp_call *c) { return collective(c); }
