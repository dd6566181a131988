/* An activation written in C, in a graph through `call`, with its VJP
 * (example_call.h). */
#include "models/example_call.h"
#include "frontend/builder_call.h"
#include "frontend/nn.h"
#include "backends/runtime/call.h"

#include <math.h>

double gc_example_squareplus(double x, double b) { return (x + sqrt(x * x + b)) / 2; }
double gc_example_squareplus_grad(double x, double b) { return (1 + x / sqrt(x * x + b)) / 2; }

static const char signature[] = "f64(f64,f64)";

/* The call's attributes, the one place both the forward and the VJP make them. */
static gc_attrs call_attrs(const char *callee, double hinge) {
  gc_attrs a;
  gc_attrs_defaults(GC_OP_CALL, &a);
  a.call.callee = callee;
  a.call.elementwise = true;
  a.call.signature = signature;
  a.call.extra.n = 1;
  a.call.extra.key[0] = "b";
  a.call.extra.value[0] = hinge;
  return a;
}

/* The VJP: dx = dy * squareplus'(x), the derivative itself a call. */
static int squareplus_vjp(gc_graph *g, int node, int dy, int *dx, void *user_data, gc_diag *d) {
  (void)user_data;
  const gc_node *n = g->nodes[node];
  int x = n->in[0];
  gc_attrs a = call_attrs("gc_example_squareplus_grad", n->attrs.call.extra.value[0]);
  int slope = gc_graph_add(g, GC_OP_CALL, &x, 1, &a, &g->nodes[x]->type, d);
  dx[0] = slope < 0 ? -1 : gc_graph_add(g, GC_OP_MUL, (int[]){dy, slope}, 2, NULL, NULL, d);
  return dx[0] < 0 ? -1 : 0;
}

int gc_example_register_calls(void) {
  return gc_register_call("gc_example_squareplus", (void *)gc_example_squareplus, squareplus_vjp, NULL);
}

gc_val gc_example_squareplus_call(gc_builder *b, gc_val x, double hinge) {
  const char *keys[] = {"b"};
  gc_call_opts o = {.signature = signature, .n_attrs = 1, .keys = keys, .values = &hinge};
  return gc_call_elementwise(b, "gc_example_squareplus", x, &o);
}

gc_val gc_example_squareplus_mlp(gc_builder *b, gc_val x, int64_t in, int64_t hidden, int64_t out) {
  gc_val h = gc_linear(b, x, "fc1", in, hidden, true, GC_LINEAR_OUT_IN);
  return gc_linear(b, gc_example_squareplus_call(b, h, 4.0), "fc2", hidden, out, true, GC_LINEAR_OUT_IN);
}
