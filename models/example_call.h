/* models/example_call.h — an example to copy: an activation written as a C
 * function, put in a model's graph with `call`, and differentiated through
 * the VJP registered with it (docs/calls.md walks through it).
 *
 *   squareplus(x; b) = (x + sqrt(x^2 + b)) / 2     (a smooth ReLU)
 *   its derivative     (1 + x / sqrt(x^2 + b)) / 2
 *
 * Both are plain C functions of doubles; the graph calls them element by
 * element through libffi with signature "f64(f64,f64)", b coming from the
 * call's attribute {b=...}, whatever the model's float dtype. */
#ifndef GC_MODELS_EXAMPLE_CALL_H
#define GC_MODELS_EXAMPLE_CALL_H

#include "frontend/builder.h"

double gc_example_squareplus(double x, double b);
double gc_example_squareplus_grad(double x, double b);

/* Register gc_example_squareplus with its VJP (once, before building). */
int gc_example_register_calls(void);

/* squareplus(x; b) as a call node, x's type. */
gc_val gc_example_squareplus_call(gc_builder *b, gc_val x, double hinge);

/* A two-layer perceptron with it: fc2(squareplus(fc1(x))), params
 * fc1.{weight,bias} [hidden, in], fc2.{weight,bias} [out, hidden]. */
gc_val gc_example_squareplus_mlp(gc_builder *b, gc_val x, int64_t in, int64_t hidden, int64_t out);

#endif
