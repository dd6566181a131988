/* The runtime's allocator (see alloc.h).  Every block carries a 64-byte
 * header (its size and where it came from) in front of the 64-aligned
 * pointer handed out.  Big blocks (1 MiB and more) are mapped from the
 * kernel: their pages are zero already and cost nothing until touched, so
 * zeroed weights that are then replaced (gc_program_adopt_params) or an
 * arena's unused tail never count in the resident set. */
#include "base/alloc.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

enum { HEADER = 64, BIG = 1 << 20 };

typedef struct {
  size_t size;     /* of the whole block, header included */
  bool mapped;
} header;

static atomic_uint_fast64_t allocations;

static void *block(size_t bytes, bool zero) {
  size_t size = ((bytes + 63) & ~(size_t)63) + HEADER;
  if (size < bytes) return NULL;
  char *base;
  bool mapped = size >= BIG;
  if (mapped) {
    base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return NULL;
  } else {
    if (!(base = aligned_alloc(64, size))) return NULL;
    if (zero) memset(base + HEADER, 0, size - HEADER);
  }
  *(header *)base = (header){size, mapped};
  atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
  return base + HEADER;
}

void *gc_alloc_uninit(size_t bytes) { return block(bytes, false); }
void *gc_alloc(size_t bytes) { return block(bytes, true); }

void gc_free(void *p) {
  if (!p) return;
  char *base = (char *)p - HEADER;
  header h = *(header *)base;
  if (h.mapped) munmap(base, h.size);
  else free(base);
}

uint64_t gc_alloc_count(void) { return atomic_load_explicit(&allocations, memory_order_relaxed); }
