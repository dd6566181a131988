/* The builder's `call` (builder_call.h). */
#include "frontend/builder_call.h"
#include "frontend/builder_internal.h"

gc_val gc_call(gc_builder *b, const char *name, int n, const gc_val *args, gc_dtype dt, int rank,
               const int64_t *dims, const gc_call_opts *o) {
  if (gc_b_skip(b, "call", n, args)) return GC_NONE;
  gc_call_opts none = {0};
  if (!o) o = &none;
  if (o->n_attrs > GC_MAX_PAIRS) {
    gc_b_fail(b, "call", n, args, "has %d attributes (at most %d)", o->n_attrs, GC_MAX_PAIRS);
    return GC_NONE;
  }
  gc_attrs a;
  gc_attrs_defaults(GC_OP_CALL, &a);
  a.call.callee = name;
  a.call.elementwise = o->elementwise;
  a.call.effects = o->effects;
  a.call.signature = o->signature;
  a.call.extra.n = o->n_attrs;
  for (int i = 0; i < o->n_attrs; i++) a.call.extra.key[i] = o->keys[i], a.call.extra.value[i] = o->values[i];
  gc_type t = gc_type_make(gc_b_dtype(b, dt), rank, dims);
  return gc_b_emit(b, "call", GC_OP_CALL, n, args, &a, &t);
}

gc_val gc_call_elementwise(gc_builder *b, const char *name, gc_val x, const gc_call_opts *o) {
  if (gc_b_skip(b, "call", 1, &x)) return GC_NONE;
  gc_call_opts e = o ? *o : (gc_call_opts){0};
  e.elementwise = true;
  const gc_type *t = &gc_b_node(b, x)->type;
  return gc_call(b, name, 1, &x, t->dtype, t->rank, t->dims, &e);
}
