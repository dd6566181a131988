/* frontend/builder_call.h — the user's C functions in a built graph:
 * `call @name(...)` (docs/calls.md), with the builder's errors. */
#ifndef GC_FRONTEND_BUILDER_CALL_H
#define GC_FRONTEND_BUILDER_CALL_H

#include "frontend/builder.h"

/* How the call is made; a zeroed one is a buffer call without attributes. */
typedef struct {
  bool elementwise;          /* a C function of scalars, applied per element */
  bool effects;              /* never merged, removed or run twice */
  const char *signature;     /* "f64(f64,f64,i32)"; NULL: from the dtypes */
  int n_attrs;               /* the callee's own attributes, key = number */
  const char *const *keys;
  const double *values;
} gc_call_opts;

/* call @name(args[0..n)) : dt[dims]; dt may be GC_FLOATX.  o NULL: a buffer
 * call.  An elementwise call's result has its operands' shape. */
gc_val gc_call(gc_builder *b, const char *name, int n, const gc_val *args, gc_dtype dt, int rank,
               const int64_t *dims, const gc_call_opts *o);

/* An elementwise call of x alone, of x's type. */
gc_val gc_call_elementwise(gc_builder *b, const char *name, gc_val x, const gc_call_opts *o);

#endif
