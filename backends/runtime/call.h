/* backends/runtime/call.h — the user's C functions that `call @name` runs
 * (docs/calls.md).
 *
 * Two conventions:
 *   buffer calls (the default): `int name(gc_call_args *args)` gets its
 *     operands' and result's buffers (contiguous, row-major), their dtypes
 *     and shapes, the call's own attributes and the registered user data;
 *     a non-zero return stops the run with the message it left through
 *     gc_call_fail.
 *   elementwise calls `{elementwise}`: any C function of scalars (libm's
 *     erff, powf, the user's `float act(float x, float alpha, int k)`),
 *     called through libffi once per element.  Its C signature is the
 *     `signature` attribute, "f32(f32,f32,i32)" (f32 f64 i32 i64 for float,
 *     double, int32_t, int64_t), or else the result's dtype applied to the
 *     operands' dtypes.  Parameters past the operands take the call's own
 *     attributes, in the order written ({alpha=0.5, k=3}).
 *
 * Names resolve, in order: gc_register_call's registry, the plugins loaded
 * by gc_call_load_plugin (`--plugin LIB.so` on every tool), then the
 * process (dlsym of RTLD_DEFAULT: libc, libm, the program itself when
 * linked with -rdynamic).
 *
 * The registry and the plugin list are process-wide (registering is meant
 * for a program's start); both are guarded by a lock. */
#ifndef GC_RUNTIME_CALL_H
#define GC_RUNTIME_CALL_H

#include "ir/ir.h"

#include <stddef.h>

typedef struct {
  void *data;            /* numel elements of dtype, row-major */
  gc_dtype dtype;
  int rank;
  const int64_t *dims;
  int64_t numel;
} gc_call_buffer;

typedef struct gc_call_args {
  const char *name;      /* the callee's name */
  int n_in;
  const gc_call_buffer *in;
  gc_call_buffer *out;   /* the one result */
  const gc_pairs *attrs; /* the call's own attributes ({alpha=0.5}) */
  void *user_data;       /* gc_register_call's */
  char *message;         /* gc_call_fail writes here */
  size_t message_size;
} gc_call_args;

typedef int gc_call_fn(gc_call_args *args);

/* Leave a message for the run's error; returns 1 (return it). */
int gc_call_fail(gc_call_args *args, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The call's own attribute `key`, or dflt when it has none. */
double gc_call_attr(const gc_call_args *args, const char *key, double dflt);

/* The VJP of a call: given the graph, the call's node and the node holding
 * the adjoint of its value, add nodes to g (gc_graph_add; a VJP that is
 * itself a call adds a `call` node) and write into dx[i] the node holding
 * operand i's adjoint contribution (its type), or -1 for none.  Returns 0,
 * or -1 with a message in d. */
typedef int gc_call_vjp_fn(gc_graph *g, int node, int dy, int *dx, void *user_data, gc_diag *d);

/* Register `name` (copied): fn is a gc_call_fn for buffer calls, or the
 * scalar function for elementwise ones; vjp may be NULL (the call is then
 * not differentiable).  Registering a name again replaces it.  Returns 0,
 * or -1 when out of memory. */
int gc_register_call(const char *name, void *fn, gc_call_vjp_fn *vjp, void *user_data);
/* Forget every registration (tests). */
void gc_call_registry_clear(void);

/* Load a plugin: dlopen(path); when it defines `int gc_plugin_init(void)`
 * that runs (it may register calls with VJPs; non-zero is an error).  Its
 * symbols then resolve calls.  -1 with a message naming the file. */
int gc_call_load_plugin(const char *path, gc_diag *d);

/* What a call node resolved to, compiled once (the libffi call interface
 * prepared for an elementwise call). */
typedef struct gc_call_site gc_call_site;

/* Resolve call node n (%id; in_types: its operands' types) and check its
 * signature against its operands and attributes.  Errors name the call and
 * carry the node's line and column.  The site refers to n and in_types:
 * they must outlive it. */
gc_call_site *gc_call_site_new(const gc_node *n, int id, const gc_type *const *in_types, gc_diag *d);
void gc_call_site_free(gc_call_site *s);

/* Run the call: in[i] holds operand i (its node's type, contiguous), out
 * the result.  -1 with the callee's message (or ours) in d. */
int gc_call_site_run(const gc_call_site *s, const void *const *in, void *out, gc_diag *d);

/* Resolve every call of g (the error of the first that fails). */
int gc_call_check_graph(const gc_graph *g, gc_diag *d);

/* The VJP registered with name, or NULL; *user_data set. */
gc_call_vjp_fn *gc_call_vjp_of(const char *name, void **user_data);

#endif
