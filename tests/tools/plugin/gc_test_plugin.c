/* A plugin for the tests of custom calls (`--plugin gc_test_plugin.so`):
 * softplus(x) = log(1 + e^x) as an elementwise call, registered at load
 * with its VJP, dy * sigmoid(x). */
#include "backends/runtime/call.h"

#include <math.h>

double plugin_softplus(double x) { return x > 30 ? x : log1p(exp(x)); }

static int softplus_vjp(gc_graph *g, int node, int dy, int *dx, void *user_data, gc_diag *d) {
  (void)user_data;
  int x = g->nodes[node]->in[0];
  int s = gc_graph_add(g, GC_OP_SIGMOID, &x, 1, NULL, NULL, d);
  dx[0] = s < 0 ? -1 : gc_graph_add(g, GC_OP_MUL, (int[]){dy, s}, 2, NULL, NULL, d);
  return dx[0] < 0 ? -1 : 0;
}

int gc_plugin_init(void) { return gc_register_call("plugin_softplus", (void *)plugin_softplus, softplus_vjp, NULL); }
