/* ir/tensor.h — tensors (typed, contiguous row-major buffers) and named
 * sets of them, the currency between the runtime, safetensors IO and tools.
 *
 * Ownership: a gc_tensor owns its data.  A gc_tensor_map owns the tensors put
 * into it (gc_tensor_map_put takes ownership, freeing any tensor it replaces)
 * and copies names. */
#ifndef GC_TENSOR_H
#define GC_TENSOR_H

#include "ir/ir.h"

typedef struct {
  gc_type type;
  void *data;        /* numel * dtype size bytes, 64-aligned, zeroed at birth */
} gc_tensor;

/* NULL if the type is invalid (negative dims, element count overflow). */
gc_tensor *gc_tensor_new(const gc_type *t);
gc_tensor *gc_tensor_clone(const gc_tensor *t);
void gc_tensor_free(gc_tensor *t);
int64_t gc_tensor_numel(const gc_tensor *t);
size_t gc_tensor_bytes(const gc_tensor *t);
/* Element i as a double / set from a double (any dtype; bool is 0/1). */
double gc_tensor_load(const gc_tensor *t, int64_t i);
void gc_tensor_store(gc_tensor *t, int64_t i, double v);

typedef struct {
  int n, cap;
  char **names;
  gc_tensor **tensors;
} gc_tensor_map;

void gc_tensor_map_init(gc_tensor_map *s);
void gc_tensor_map_clear(gc_tensor_map *s);      /* frees every tensor and name */
void gc_tensor_map_put(gc_tensor_map *s, const char *name, gc_tensor *t);
gc_tensor *gc_tensor_map_get(const gc_tensor_map *s, const char *name);
/* Removes the tensor from the set without freeing it; NULL if absent. */
gc_tensor *gc_tensor_map_take(gc_tensor_map *s, const char *name);

#endif
