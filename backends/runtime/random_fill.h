/* backends/runtime/random_fill.h — seeded tensor fills that give the same
 * values on any number of threads.
 *
 * The stream: splitmix64 (base/splitmix64.h) from a 64-bit state; draw k (k = 0, 1, ...) is what
 * the (k+1)-th call of splitmix64 on that state returns, so any draw can be
 * computed without the ones before it, and a large tensor is filled in
 * chunks on every core the process may use.  A uniform u is the top 53 bits
 * of a draw times 2^-53.  Element i of a normal fill draws u1 = uniform of
 * draw 2i and u2 = uniform of draw 2i+1 and is
 * mean + std * sqrt(-2 ln(1 - u1)) * cos(2 pi u2), computed in double and
 * rounded to the tensor's dtype. */
#ifndef GC_RUNTIME_RANDOM_FILL_H
#define GC_RUNTIME_RANDOM_FILL_H

#include "backends/runtime/tensor.h"

#include <stdint.h>

/* Element i = mean + std * (a standard normal from draws 2i and 2i+1). */
void gc_fill_normal(gc_tensor *t, uint64_t state, double mean, double std);
/* Element i from draw i: x % high for integers (0 when high <= 0), x & 1
 * for bool. */
void gc_fill_integers(gc_tensor *t, uint64_t state, int64_t high);
/* Every element v (0 is a memset). */
void gc_fill_value(gc_tensor *t, double v);

#endif
