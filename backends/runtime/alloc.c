/* The runtime's allocator (see alloc.h). */
#include "backends/runtime/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_uint_fast64_t allocations;

void *gc_alloc_uninit(size_t bytes) {
  size_t size = (bytes + 63) & ~(size_t)63;
  if (size < bytes) return NULL;
  void *p = aligned_alloc(64, size ? size : 64);
  if (p) atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
  return p;
}

void *gc_alloc(size_t bytes) {
  void *p = gc_alloc_uninit(bytes);
  if (p) memset(p, 0, bytes ? (bytes + 63) & ~(size_t)63 : 64);
  return p;
}

void gc_free(void *p) { free(p); }

uint64_t gc_alloc_count(void) { return atomic_load_explicit(&allocations, memory_order_relaxed); }
