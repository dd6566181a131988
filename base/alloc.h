/* base/alloc.h — the allocator: every tensor, program
 * buffer and backend workspace is allocated here, 64-byte aligned, so the
 * count of allocations is one number a test can read ("a training step
 * allocates nothing after the first" is checked with it). */
#ifndef GC_BASE_ALLOC_H
#define GC_BASE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

/* `bytes` (0 is allowed) zero-filled, 64-aligned; NULL when out of memory.
 * Free with gc_free. */
void *gc_alloc(size_t bytes);
/* The same without the zero fill: for arenas and scratch that kernels
 * write before they read (no page is touched until used). */
void *gc_alloc_uninit(size_t bytes);
void gc_free(void *p);

/* Allocations made through gc_alloc since the process started (all threads).
 * The only global state of the runtime: a statistic, never an input. */
uint64_t gc_alloc_count(void);

#endif
